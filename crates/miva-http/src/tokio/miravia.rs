//! The async Miravia client and its page stream (placeholders until they
//! land).

/// The async Miravia client (placeholder).
#[derive(Debug)]
pub struct MiraviaClient {
    _p: (),
}

/// An async stream of a paginated Miravia endpoint's pages (placeholder).
#[derive(Debug)]
pub struct Pages {
    _p: (),
}
