//! The async Miva list stream (placeholder until it lands).

/// An async stream of a list query's records (placeholder).
#[derive(Debug)]
pub struct Records {
    _p: (),
}
