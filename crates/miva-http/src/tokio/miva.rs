//! The async Miva client (placeholder until the async Miva client lands).

/// The async Miva client (placeholder).
#[derive(Debug)]
pub struct MivaClient {
    _p: (),
}
