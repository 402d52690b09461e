//! The async HTTP layer both async clients share (reqwest).
