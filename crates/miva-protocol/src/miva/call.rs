//! One call of a Miva function (typed, raw or module): its envelope, its
//! retries and its one clock-offset retry, as a machine.

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use miva_envelope::{Envelope, Response, Target};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Attempt, Session, Step, api_error, check_status, log_outcome};
use crate::{BodyBudget, Deadline, Error, RawResponse, RetryState, excerpt};

/// What a call calls, owned.
#[derive(Debug, Clone)]
enum Callee {
    Function(String),
    Module { code: String, function: String },
}

impl Callee {
    fn target(&self) -> Target<'_> {
        match self {
            Self::Function(name) => Target::Function(name),
            Self::Module { code, function } => Target::Module { code, function },
        }
    }
}

/// One call, from its first attempt to its value or error: built (and
/// validated) by a [`Session`], its parameters serialized once. A driver
/// asks [`Call::next_attempt`] for the request to send, sends it, and hands
/// the outcome to [`Call::on_response`], which says what to do next.
///
/// Decided here: the envelope with a fresh timestamp on every attempt
/// (the learned clock offset applied), the headers, each request's limit
/// (cut to the deadline's time left, and a timeout while cut reported as
/// the deadline's), the status, redirect and empty-body checks, decoding
/// within the body budget, API errors and access-denied kinds, one retry
/// after a refused timestamp when the store's `Date` moves the offset, and
/// the retry policy's waits (502/503/504 only when safe to repeat).
pub struct Call<'s, T> {
    session: &'s Session,
    callee: Callee,
    name: String,
    store_code: Option<String>,
    /// The parameters as a JSON object without its braces (empty for none).
    params: Vec<u8>,
    safe_to_repeat: bool,
    deadline: Option<Deadline>,
    timeout: Option<Duration>,
    budget: BodyBudget,
    retries: RetryState,
    clock_retried: bool,
    /// The last attempt: its body length, and whether the deadline cut its
    /// limit.
    sent_bytes: usize,
    cut_by_deadline: bool,
    _out: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Call<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("function", &self.name)
            .field("store_code", &self.store_code)
            .field("safe_to_repeat", &self.safe_to_repeat)
            .field("retries", &self.retries.retries())
            .finish_non_exhaustive()
    }
}

impl<'s, T: DeserializeOwned> Call<'s, T> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new<P: Serialize + ?Sized>(
        session: &'s Session,
        target: Target<'_>,
        store_code: Option<&str>,
        params: &P,
        safe_to_repeat: bool,
        deadline: Option<Deadline>,
        timeout: Option<Duration>,
        budget: BodyBudget,
    ) -> Result<Self, Error> {
        let params = match serde_json::to_vec(params) {
            Ok(p) if p == b"null" || p == b"{}" => Vec::new(),
            Ok(p) if p.first() == Some(&b'{') && p.last() == Some(&b'}') => {
                p[1..p.len() - 1].to_vec()
            }
            // Not an object: the envelope's own error says so.
            _ => {
                return Err(match Envelope::new(target).encode(params) {
                    Err(e) => Error::Envelope(e),
                    Ok(_) => Error::Config(
                        "the call's parameters must serialize to a JSON object".to_owned(),
                    ),
                });
            }
        };
        let callee = match target {
            Target::Function(name) => Callee::Function(name.to_owned()),
            Target::Module { code, function } => Callee::Module {
                code: code.to_owned(),
                function: function.to_owned(),
            },
        };
        Ok(Self {
            session,
            name: target.display_name(),
            callee,
            store_code: store_code.map(str::to_owned),
            params,
            safe_to_repeat,
            deadline,
            timeout,
            budget,
            retries: RetryState::new(),
            clock_retried: false,
            sent_bytes: 0,
            cut_by_deadline: false,
            _out: PhantomData,
        })
    }
}

impl<T: DeserializeOwned> Call<'_, T> {
    /// The deadline over this call, if any: a driver bounds its waits
    /// (for a rate or in-flight limit) by it too.
    pub fn active_deadline(&self) -> Option<&Deadline> {
        self.deadline.as_ref()
    }

    /// The function's name as logs and errors show it
    /// (`Module:code:function` for a module call): the driver's span field.
    pub fn function(&self) -> &str {
        &self.name
    }

    /// Whether the call may be repeated after it may have reached the
    /// store (read-only, or marked idempotent).
    pub fn safe_to_repeat(&self) -> bool {
        self.safe_to_repeat
    }

    /// The next request, signed now: call it after any wait for a rate or
    /// in-flight limit, just before sending.
    ///
    /// # Errors
    /// The deadline's [`Error::Timeout`] when it has passed;
    /// [`Error::Sign`] when signing fails.
    pub fn next_attempt(&mut self) -> Result<Attempt, Error> {
        self.prepare(true)
    }

    /// As [`Call::next_attempt`] without the authorization header: sign
    /// [`Attempt::body`] with [`Session::credential`] (off an async
    /// executor, for an SSH agent) and install it with
    /// [`Attempt::set_authorization`] before sending.
    ///
    /// # Errors
    /// The deadline's [`Error::Timeout`] when it has passed.
    pub fn next_unsigned(&mut self) -> Result<Attempt, Error> {
        self.prepare(false)
    }

    fn prepare(&mut self, sign: bool) -> Result<Attempt, Error> {
        if let Some(d) = self.deadline.as_ref().filter(|d| d.passed()) {
            return Err(d.expired());
        }
        let mut body = Vec::with_capacity(64 + self.params.len());
        Envelope::new(self.callee.target())
            .store_code(self.store_code.as_deref())
            .timestamp(self.session.timestamp())
            .encode_into(&(), &mut body)?;
        if !self.params.is_empty() {
            // `{...envelope}` + `,` + the parameters' members + `}`.
            body.pop();
            body.push(b',');
            body.extend_from_slice(&self.params);
            body.push(b'}');
        }
        let (timeout, cut) =
            self.session
                .request_limit(self.timeout, false, self.deadline.as_ref())?;
        self.sent_bytes = body.len();
        self.cut_by_deadline = cut;
        self.session
            .attempt(body, sign, false, None, timeout, self.budget)
    }

    /// What to do after the attempt: `result` is what the transport
    /// returned, `elapsed` how long it took (for the debug line).
    pub fn on_response(
        &mut self,
        result: Result<RawResponse, Error>,
        elapsed: Duration,
    ) -> Step<T> {
        let result = match (result, self.cut_by_deadline, self.deadline.as_ref()) {
            (Err(Error::Timeout { .. }), true, Some(d)) => Err(d.expired()),
            (result, _, _) => result,
        };
        log_outcome(&self.name, self.sent_bytes, &result, elapsed);
        let response = match result.and_then(|r| check_status(&r, false).map(|()| r)) {
            Ok(response) => response,
            Err(e) => {
                return match self.session.retry_wait(
                    &e,
                    self.safe_to_repeat,
                    &mut self.retries,
                    self.deadline.as_ref(),
                ) {
                    Some(wait) => Step::Wait(wait),
                    None => Step::Fail(e),
                };
            }
        };
        // Nothing is decoded that would not fit in memory or would round
        // an integer.
        match self.budget.decode_response::<T>(&response.body) {
            Err(e) => Step::Fail(e),
            Ok(Ok(Response::Success(data))) => Step::Done(data),
            Ok(Ok(Response::Failure(error))) => {
                let error = api_error(error);
                // A refused timestamp is retried once, with the store's
                // clock.
                if !self.clock_retried && self.session.learn_clock_offset(&error, &response) {
                    self.clock_retried = true;
                    return Step::Resend;
                }
                Step::Fail(error)
            }
            Ok(Err(e)) => Step::Fail(Error::Undecodable {
                status: response.status,
                reason: e.to_string(),
                excerpt: excerpt(&response.body),
            }),
        }
    }
}
