//! What a driver does after handing a machine an answer: one type for
//! every machine of both platforms.

use std::time::Duration;

use crate::Error;

/// What a driver does after handing a machine (a call, a multicall) the
/// answer or failure of one attempt.
#[derive(Debug)]
#[must_use]
pub enum Step<T> {
    /// The call is done: its value.
    Done(T),
    /// The call failed; do not send it again.
    Fail(Error),
    /// Sleep this long, then ask for the next attempt (a retry).
    Wait(Duration),
    /// Ask for the next attempt now: it is signed anew (a timestamp
    /// re-taken with a clock offset just learned, or a multicall's
    /// continuation).
    Resend,
}
