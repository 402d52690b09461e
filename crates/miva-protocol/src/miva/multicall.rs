//! A multicall with its 206 continuation, as a machine.

use std::fmt;
use std::time::Duration;

use miva_envelope::{
    ContentRange, Operation, OperationResult, decode_multicall, encode_multicall_into,
};

use super::{Attempt, Session, Step, api_error, check_status, log_outcome};
use crate::{BodyBudget, Deadline, Error, RawResponse, RetryState, TimeoutKind, excerpt};

/// Several operations in one request, one result per operation, in order.
/// When the store runs out of time it answers HTTP 206 with
/// `Content-Range: <completed>/<total>`; the machine then asks for the rest
/// (`Range: Operations=<next>-<total>`, re-signed with a fresh timestamp:
/// [`Step::Resend`]) until every operation is answered.
///
/// Decided here: `X-Miva-API-Timeout` (multicall only) and each request's
/// limit (the store's budget plus [`API_TIMEOUT_MARGIN`](super::API_TIMEOUT_MARGIN),
/// cut to the deadline), the counts of every 206 and 200 (an answer must
/// add up and make progress), at most the session's rounds, the clock
/// retry in the first round only (nothing ran), retries of a write only
/// when marked idempotent, and a deadline's error naming the round and how
/// many operations were answered
/// ([`TimeoutKind::MulticallDeadline`]).
pub struct Multicall<'a> {
    session: &'a Session,
    operations: &'a [Operation],
    store_code: Option<String>,
    idempotent: bool,
    deadline: Option<Deadline>,
    timeout: Option<Duration>,
    budget: BodyBudget,
    results: Vec<OperationResult>,
    /// The round of the last attempt, from 1.
    round: usize,
    /// A retry is due: the next attempt is the same round again.
    repeat: bool,
    retries: RetryState,
    clock_retried: bool,
    sent_bytes: usize,
    cut_by_deadline: bool,
}

impl fmt::Debug for Multicall<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Multicall")
            .field("operations", &self.operations.len())
            .field("answered", &self.results.len())
            .field("round", &self.round)
            .finish_non_exhaustive()
    }
}

impl<'a> Multicall<'a> {
    pub(super) fn new(
        session: &'a Session,
        operations: &'a [Operation],
        store_code: Option<&str>,
        idempotent: bool,
        deadline: Option<Deadline>,
        timeout: Option<Duration>,
    ) -> Self {
        Self {
            session,
            operations,
            store_code: store_code.map(str::to_owned),
            idempotent,
            deadline,
            timeout,
            budget: session.call_budget(),
            results: Vec::with_capacity(operations.len()),
            round: 0,
            repeat: false,
            retries: RetryState::new(),
            clock_retried: false,
            sent_bytes: 0,
            cut_by_deadline: false,
        }
    }

    /// The deadline over this call, if any: a driver bounds its waits
    /// (for a rate or in-flight limit) by it too.
    pub fn active_deadline(&self) -> Option<&Deadline> {
        self.deadline.as_ref()
    }

    /// The name logs show: `multicall` (the driver's span field).
    pub fn function(&self) -> &'static str {
        "multicall"
    }

    /// The round the last attempt was (from 1), and how many operations
    /// have been answered.
    pub fn progress(&self) -> (usize, usize) {
        (self.round, self.results.len())
    }

    /// The next request, signed now (after any wait for a rate or
    /// in-flight limit).
    ///
    /// # Errors
    /// [`Error::Multicall`] when the rounds are used up; the deadline's
    /// [`Error::Timeout`] ([`TimeoutKind::MulticallDeadline`]) when it has
    /// passed; [`Error::Sign`] when signing fails.
    pub fn next_attempt(&mut self) -> Result<Attempt, Error> {
        self.prepare(true)
    }

    /// As [`Multicall::next_attempt`] without the authorization header
    /// (see [`Call::next_unsigned`](super::Call::next_unsigned)).
    ///
    /// # Errors
    /// As [`Multicall::next_attempt`].
    pub fn next_unsigned(&mut self) -> Result<Attempt, Error> {
        self.prepare(false)
    }

    fn prepare(&mut self, sign: bool) -> Result<Attempt, Error> {
        if !std::mem::take(&mut self.repeat) {
            if self.round >= self.session.max_multicall_rounds {
                return Err(self.gave_up());
            }
            self.round += 1;
        }
        let total = self.operations.len();
        let mut body = Vec::with_capacity(256);
        encode_multicall_into(
            self.store_code.as_deref(),
            self.session.timestamp(),
            self.operations,
            &mut body,
        )?;
        let range = (self.round > 1).then(|| {
            ContentRange {
                completed: self.results.len(),
                total,
            }
            .next_range()
        });
        let (timeout, cut) = self
            .session
            .request_limit(self.timeout, true, self.deadline.as_ref())
            .map_err(|e| self.deadline_error(e))?;
        self.sent_bytes = body.len();
        self.cut_by_deadline = cut;
        self.session
            .attempt(body, sign, true, range, timeout, self.budget)
    }

    fn gave_up(&self) -> Error {
        Error::Multicall(format!(
            "gave up after {} requests with {} of {} operations answered",
            self.session.max_multicall_rounds,
            self.results.len(),
            self.operations.len()
        ))
    }

    /// A timeout once the deadline has passed, as the multicall's.
    fn deadline_error(&self, error: Error) -> Error {
        match (error, self.deadline.as_ref()) {
            (Error::Timeout { .. }, Some(d)) if d.passed() => Error::Timeout {
                kind: TimeoutKind::MulticallDeadline {
                    round: self.round,
                    answered: self.results.len(),
                    total: self.operations.len(),
                },
                limit: d.limit(),
            },
            (e, _) => e,
        }
    }

    /// What to do after the attempt (see [`Call::on_response`](super::Call::on_response)):
    /// [`Step::Resend`] continues a 206 or retries a refused timestamp,
    /// [`Step::Done`] holds one result per operation.
    pub fn on_response(
        &mut self,
        result: Result<RawResponse, Error>,
        elapsed: Duration,
    ) -> Step<Vec<OperationResult>> {
        let result = match (result, self.cut_by_deadline, self.deadline.as_ref()) {
            (Err(Error::Timeout { .. }), true, Some(d)) => Err(d.expired()),
            (result, _, _) => result,
        };
        log_outcome("multicall", self.sent_bytes, &result, elapsed);
        let response = match result.and_then(|r| check_status(&r, true).map(|()| r)) {
            Ok(response) => response,
            // A multicall may write: only what never reached the store is
            // sent again (unless the caller says it is idempotent).
            Err(e) => {
                return match self.session.retry_wait(
                    &e,
                    self.idempotent,
                    &mut self.retries,
                    self.deadline.as_ref(),
                ) {
                    Some(wait) => {
                        self.repeat = true;
                        Step::Wait(wait)
                    }
                    None => Step::Fail(self.deadline_error(e)),
                };
            }
        };
        match self.on_answer(&response) {
            Ok(step) => step,
            Err(e) => Step::Fail(e),
        }
    }

    fn on_answer(&mut self, response: &RawResponse) -> Result<Step<Vec<OperationResult>>, Error> {
        let total = self.operations.len();
        self.budget.check_decodable(&response.body)?;
        let chunk = match decode_multicall(&response.body) {
            Ok(Ok(chunk)) => chunk,
            Ok(Err(error)) => {
                let error = api_error(error);
                // A refused timestamp is retried once, with the store's
                // clock; nothing ran.
                if self.round == 1
                    && !self.clock_retried
                    && self.session.learn_clock_offset(&error, response)
                {
                    self.clock_retried = true;
                    self.round = 0;
                    return Ok(Step::Resend);
                }
                return Err(error);
            }
            Err(e) => {
                return Err(Error::Undecodable {
                    status: response.status,
                    reason: e.to_string(),
                    excerpt: excerpt(&response.body),
                });
            }
        };
        let before = self.results.len();
        if before + chunk.len() > total {
            return Err(Error::Multicall(format!(
                "the store answered {} operations after {before} of {total}: more answers \
                 than operations",
                chunk.len()
            )));
        }
        self.results.extend(chunk);
        let answered = self.results.len();
        if response.status == 200 {
            if answered != total {
                return Err(Error::Multicall(format!(
                    "the store answered {answered} of {total} operations with HTTP 200 (no 206 \
                     to continue from)"
                )));
            }
            return Ok(Step::Done(std::mem::take(&mut self.results)));
        }
        // 206: the rest is still to come.
        let Some(header) = response.content_range.as_deref() else {
            return Err(Error::Multicall(format!(
                "HTTP 206 without a Content-Range header after {answered} of {total} \
                 operations: the store did not say how far it got, so the rest cannot be \
                 requested safely"
            )));
        };
        // The official SDKs read the completed count of a continuation as
        // this request's; a cumulative count is accepted too. Either way
        // the next Range comes from the answers actually received.
        let range = ContentRange::parse(header)?;
        let this_round = answered - before;
        if range.total != total || (range.completed != this_round && range.completed != answered) {
            return Err(Error::Multicall(format!(
                "Content-Range {header:?} does not add up: {answered} of {total} operations \
                 have been answered, {this_round} by this request"
            )));
        }
        if answered == before {
            return Err(Error::Multicall(format!(
                "the store made no progress (HTTP 206 with {header:?} and no new answers)"
            )));
        }
        tracing::debug!(completed = answered, total, "multicall continues");
        if self.round >= self.session.max_multicall_rounds {
            return Err(self.gave_up());
        }
        Ok(Step::Resend)
    }
}
