//! The Miravia call machine: the exact signed request of each attempt,
//! and what each answer means (done, the platform's error, retry after a
//! wait, re-sign with a learned clock offset).

use std::fmt;
use std::time::{Duration, Instant};

use miravia_sign::{RequestSigner, Timestamp};
use serde_json::Value;
use zeroize::Zeroizing;

use super::{FilePart, Method, Session, Step, decode, multipart};
use crate::{BodyBudget, Deadline, Error, RawResponse, RetryState};

/// One call, from its first attempt to its result. Get the request to
/// send with [`Call::next_attempt`], hand its outcome to
/// [`Call::on_response`], and do what the [`Step`] says.
///
/// Every attempt is signed anew, with the platform's time (this machine's
/// clock plus the offset learned from a refused timestamp). A refused
/// timestamp with a readable `Date` header is re-sent once at once
/// ([`Step::Resend`]); other failures are retried by the session's
/// [`RetryPolicy`](crate::RetryPolicy) where that is safe (a GET may be
/// repeated; a call limit was not processed), never past the deadline.
pub struct Call<'a> {
    session: &'a Session,
    method: Method,
    api_path: String,
    url: String,
    params: Vec<(String, Zeroizing<String>)>,
    files: &'a [FilePart],
    signer: RequestSigner,
    deadline: Option<Deadline>,
    retries: RetryState,
    clock_retried: bool,
    /// Whether the last attempt's limit was cut to the deadline's time left.
    cut: bool,
    budget: BodyBudget,
}

impl fmt::Debug for Call<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("method", &self.method)
            .field("api_path", &self.api_path)
            .field("retries", &self.retries.retries())
            .finish_non_exhaustive()
    }
}

impl<'a> Call<'a> {
    /// A call to `base` + `api_path`, checked before anything is sent.
    pub(crate) fn new(
        session: &'a Session,
        base: &str,
        method: Method,
        api_path: &str,
        params: &[(&str, &str)],
        files: &'a [FilePart],
        access_token: Option<&str>,
    ) -> Result<Self, Error> {
        if method == Method::Get && !files.is_empty() {
            return Err(Error::Config(
                "files can only be sent with POST: use Method::Post for an upload".into(),
            ));
        }
        let signer = match access_token {
            Some(token) => session.signer().clone().with_access_token(token)?,
            None => session.signer().clone(),
        };
        Ok(Self {
            session,
            method,
            api_path: api_path.to_owned(),
            url: format!("{base}{api_path}"),
            params: params
                .iter()
                .map(|(n, v)| ((*n).to_owned(), Zeroizing::new((*v).to_owned())))
                .collect(),
            files,
            signer,
            deadline: None,
            retries: RetryState::new(),
            clock_retried: false,
            cut: false,
            budget: BodyBudget::call(session.transport().body_limit),
        })
    }

    /// Every attempt of this call, and every wait between them, within
    /// `deadline` when there is one: no attempt starts once it has passed,
    /// an attempt's limit is cut to the time left (a timeout then is the
    /// deadline's error), and no retry waits longer than the time left.
    #[must_use]
    pub fn deadline(mut self, deadline: Option<Deadline>) -> Self {
        self.deadline = deadline;
        self
    }

    /// The deadline over this call, if any: a driver bounds its waits
    /// (for a rate or in-flight limit) by it too.
    pub fn active_deadline(&self) -> Option<&Deadline> {
        self.deadline.as_ref()
    }

    /// The API path, e.g. `/order/get`.
    pub fn api_path(&self) -> &str {
        &self.api_path
    }

    /// GET or POST.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The next request to send, signed now. Ask for it after waiting for
    /// any rate limit, so that its time limit is what is left then.
    ///
    /// # Errors
    /// The deadline's [`Error::Timeout`] once it has passed; a signing
    /// error (a reserved parameter name, a bad path).
    pub fn next_attempt(&mut self) -> Result<Attempt, Error> {
        let timeout = match &self.deadline {
            Some(d) => d.request_limit(self.session.transport().timeout)?,
            None => None,
        };
        self.cut = timeout.is_some();
        let now = Timestamp::from_system_time(self.session.platform_now())?;
        let params = self.params.iter().map(|(n, v)| (n.as_str(), v.as_str()));
        let signed = self.signer.sign(&self.api_path, now, params, None)?;
        let (url, body) = match self.method {
            Method::Get => (format!("{}?{}", self.url, signed.to_urlencoded()), None),
            Method::Post if self.files.is_empty() => (
                self.url.clone(),
                Some((
                    "application/x-www-form-urlencoded".to_owned(),
                    Zeroizing::new(signed.to_urlencoded().into_bytes()),
                )),
            ),
            Method::Post => {
                let (content_type, bytes) = multipart(&signed, self.files);
                (
                    self.url.clone(),
                    Some((content_type, Zeroizing::new(bytes))),
                )
            }
        };
        Ok(Attempt {
            method: self.method,
            url: Zeroizing::new(url),
            body,
            timeout,
            budget: self.budget,
        })
    }

    /// What to do after the attempt ended with `result` (the response as
    /// read within [`Attempt::budget`], or the transport's error) after
    /// `elapsed`. Logs the attempt at DEBUG (method, status, size, time;
    /// never the URL, which holds the token and signature).
    pub fn on_response(
        &mut self,
        result: Result<RawResponse, Error>,
        elapsed: Duration,
    ) -> Step<Value> {
        // Cut off by the deadline: its error, not the transport's.
        let result = match (result, &self.deadline) {
            (Err(Error::Timeout { .. }), Some(d)) if self.cut => Err(d.expired()),
            (result, _) => result,
        };
        let elapsed_ms = elapsed.as_secs_f64() * 1000.0;
        match &result {
            Ok(r) => tracing::debug!(
                method = ?self.method,
                status = r.status,
                response_bytes = r.body.len(),
                elapsed_ms,
                "miravia call"
            ),
            Err(e) => tracing::debug!(
                method = ?self.method,
                elapsed_ms,
                error = %e,
                "miravia call failed"
            ),
        }
        let date = result.as_ref().ok().and_then(|r| r.date.clone());
        // Nothing decoded past the memory budget or with an integer rounded.
        let budget = self.budget;
        let decoded = result.and_then(|r| {
            budget.check_decodable(&r.body)?;
            decode(r)
        });
        let error = match decoded {
            Ok(value) => return Step::Done(value),
            Err(e) => e,
        };
        if !self.clock_retried && self.learn_clock_offset(&error, date.as_deref()) {
            self.clock_retried = true;
            return Step::Resend;
        }
        match self.retries.next_wait(
            self.session.retry_policy(),
            &error,
            self.method == Method::Get,
            self.deadline.as_ref().map(Deadline::remaining),
        ) {
            Some(wait) => Step::Wait(wait),
            None => Step::Fail(error),
        }
    }

    /// After a refused timestamp (an error code naming the timestamp):
    /// takes the platform's time from its `Date` header; `true` when the
    /// offset changed, so that one retry can succeed.
    fn learn_clock_offset(&self, error: &Error, date: Option<&str>) -> bool {
        let Error::Miravia(e) = error else {
            return false;
        };
        if !e.is_timestamp_refused() {
            return false;
        }
        let Some(date) = date else {
            tracing::debug!("timestamp refused and no Date header: clock not adjusted");
            return false;
        };
        self.session.clock_offset().learn(self.session.now(), date)
    }
}

/// One request of a [`Call`], exactly as it is to be sent.
pub struct Attempt {
    method: Method,
    url: Zeroizing<String>,
    body: Option<(String, Zeroizing<Vec<u8>>)>,
    timeout: Option<Duration>,
    budget: BodyBudget,
}

impl fmt::Debug for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attempt")
            .field("method", &self.method)
            .field("url", &crate::redact_url(&self.url))
            .field(
                "body",
                &self.body.as_ref().map(|(t, b)| (t.as_str(), b.len())),
            )
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Attempt {
    /// GET or POST.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The whole URL: for a GET with the signed query (access token and
    /// signature: never log it unredacted).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// For a POST, its content type and body; `None` for a GET.
    pub fn body(&self) -> Option<(&str, &[u8])> {
        self.body.as_ref().map(|(t, b)| (t.as_str(), b.as_slice()))
    }

    /// Headers to send besides `Content-Type` (none: Miravia signs
    /// parameters).
    pub fn headers(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    /// This request's limit instead of the transport's, when a deadline
    /// cuts it to the time left.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// How much body may be read and decoded.
    pub fn budget(&self) -> BodyBudget {
        self.budget
    }
}

/// Runs `call` to its end with a blocking `send` and `sleep`: the loop every
/// blocking driver writes, for callers with their own blocking HTTP stack.
/// `send` gets each attempt and returns the response read within its
/// budget (or a transport error).
///
/// # Errors
/// The call's error.
pub fn run_blocking(
    mut call: Call<'_>,
    mut send: impl FnMut(&Attempt) -> Result<RawResponse, Error>,
    mut sleep: impl FnMut(Duration),
) -> Result<Value, Error> {
    loop {
        let attempt = call.next_attempt()?;
        let started = Instant::now();
        let result = send(&attempt);
        match call.on_response(result, started.elapsed()) {
            Step::Done(value) => return Ok(value),
            Step::Fail(error) => return Err(error),
            Step::Wait(wait) => sleep(wait),
            Step::Resend => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::miravia::{Gateway, SessionConfig};
    use crate::{RetryPolicy, TimeoutKind};
    use miravia_sign::AppSecret;
    use std::collections::BTreeMap;
    use std::time::SystemTime;

    /// The document's example time, 2018-02-05T08:46:32Z.
    const DOC_MS: u64 = 1_517_820_392_000;

    fn session(retry: Option<RetryPolicy>) -> Session {
        let mut config = SessionConfig::new(
            Gateway::MiraviaEs,
            "123456",
            AppSecret::new("helloworld").unwrap(),
        )
        .access_token("test")
        .partner_id(None)
        .clock(|| SystemTime::UNIX_EPOCH + Duration::from_millis(DOC_MS));
        if let Some(policy) = retry {
            config = config.retry(policy);
        }
        Session::new(config).unwrap()
    }

    fn query(url: &str) -> BTreeMap<String, String> {
        let (_, query) = url.split_once('?').unwrap();
        query
            .split('&')
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (k.to_owned(), v.to_owned())
            })
            .collect()
    }

    fn answer(body: &str) -> Result<RawResponse, Error> {
        Ok(RawResponse::new(200, body.as_bytes().to_vec()))
    }

    #[test]
    fn a_get_is_signed_as_the_documents_example() {
        // Vector: the Miravia document's /order/get example (secret
        // helloworld, app_key 123456, access_token test, timestamp
        // 1517820392000), tests/vectors/miravia-document.json and
        // /work/shared/notes/wire-facts.md.
        let s = session(None);
        let mut call = s
            .call(Method::Get, "/order/get", &[("order_id", "1234")], &[])
            .unwrap();
        let attempt = call.next_attempt().unwrap();
        assert!(attempt.body().is_none());
        assert!(attempt.timeout().is_none());
        let url = attempt.url();
        assert!(
            url.starts_with("https://api.miravia.es/rest/order/get?"),
            "{url}"
        );
        let q = query(url);
        assert_eq!(
            q["sign"],
            "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A"
        );
        assert_eq!(q["timestamp"], DOC_MS.to_string());
        assert_eq!(q["order_id"], "1234");
        // The Debug form hides the token and the signature.
        let shown = format!("{attempt:?}");
        assert!(
            !shown.contains("4190D3") && !shown.contains("=test"),
            "{shown}"
        );
    }

    #[test]
    fn a_post_sends_the_signed_form_and_matches_miravia_sign() {
        // Vector: /product/create with payload P, wire-facts.md
        // (B40614A1...), the expected bytes from miravia_sign directly.
        let payload = r#"{"Request":{"Product":{"PrimaryCategory":"10002019","Attributes":{"name":"Camiseta algodón ñ","description":"100% algodón & <b>suave</b>"},"Skus":{"Sku":[{"SellerSku":"CAM-01","quantity":"3","price":"9.99"}]}}}}"#;
        let s = session(None);
        let mut call = s
            .call(
                Method::Post,
                "/product/create",
                &[("payload", payload)],
                &[],
            )
            .unwrap();
        let attempt = call.next_attempt().unwrap();
        assert_eq!(attempt.url(), "https://api.miravia.es/rest/product/create");
        let (content_type, body) = attempt.body().unwrap();
        assert_eq!(content_type, "application/x-www-form-urlencoded");
        let expected = RequestSigner::new("123456", AppSecret::new("helloworld").unwrap())
            .unwrap()
            .with_access_token("test")
            .unwrap()
            .sign(
                "/product/create",
                Timestamp::from_millis(DOC_MS),
                [("payload", payload)],
                None,
            )
            .unwrap();
        assert_eq!(
            expected.get("sign"),
            Some("B40614A191B311E1945C6790F8C3FCC349AD61600DD4EDC5FB631C6BAE6D3864")
        );
        assert_eq!(body, expected.to_urlencoded().as_bytes());
    }

    #[test]
    fn files_with_get_are_refused_before_anything_is_sent() {
        let s = session(None);
        let files = [super::super::FilePart::new("image", "a.jpg", vec![1, 2, 3])];
        let error = s
            .call(Method::Get, "/image/upload", &[], &files)
            .unwrap_err();
        assert!(
            matches!(error, Error::Config(ref m) if m.contains("POST")),
            "{error}"
        );
        let mut upload = s.call(Method::Post, "/image/upload", &[], &files).unwrap();
        let attempt = upload.next_attempt().unwrap();
        let (content_type, body) = attempt.body().unwrap();
        assert!(content_type.starts_with("multipart/form-data; boundary="));
        assert!(body.windows(3).any(|w| w == [1, 2, 3]));
    }

    #[test]
    fn a_refused_timestamp_is_resent_once_with_the_learned_offset() {
        let s = session(None);
        let mut call = s.call(Method::Get, "/order/get", &[], &[]).unwrap();
        let first = query(call.next_attempt().unwrap().url());
        // The platform is 1 hour and 10 s ahead.
        let refused = RawResponse::new(
            200,
            br#"{"type":"ISV","code":"InvalidTimestamp","message":"out of range"}"#.to_vec(),
        )
        .with_header("Date", "Mon, 05 Feb 2018 09:46:42 GMT");
        assert!(matches!(
            call.on_response(Ok(refused.clone()), Duration::ZERO),
            Step::Resend
        ));
        assert_eq!(s.clock_offset().millis(), 3_610_000);
        let second = query(call.next_attempt().unwrap().url());
        assert_eq!(second["timestamp"], (DOC_MS + 3_610_000).to_string());
        assert_ne!(first["sign"], second["sign"]);
        // Refused again: once only.
        match call.on_response(Ok(refused), Duration::ZERO) {
            Step::Fail(Error::Miravia(e)) => assert_eq!(e.code, "InvalidTimestamp"),
            other => panic!("{other:?}"),
        }
        // Without a Date header nothing is learned: the error stands.
        let s = session(None);
        let mut call = s.call(Method::Get, "/order/get", &[], &[]).unwrap();
        call.next_attempt().unwrap();
        let step = call.on_response(
            answer(r#"{"type":"ISV","code":"InvalidTimestamp","message":"x"}"#),
            Duration::ZERO,
        );
        assert!(matches!(step, Step::Fail(Error::Miravia(_))), "{step:?}");
    }

    #[test]
    fn retries_follow_the_policy_get_system_errors_and_call_limits() {
        let policy = RetryPolicy::new(2).initial_backoff(Duration::from_millis(1));
        let s = session(Some(policy));
        let system = r#"{"type":"SYSTEM","code":"ServiceTimeout","message":"later"}"#;
        let limit = r#"{"type":"ISV","code":"AppCallLimit","message":"slow"}"#;
        // A GET: a SYSTEM error twice, then the policy is spent.
        let mut get = s.call(Method::Get, "/order/get", &[], &[]).unwrap();
        for _ in 0..2 {
            get.next_attempt().unwrap();
            assert!(matches!(
                get.on_response(answer(system), Duration::ZERO),
                Step::Wait(_)
            ));
        }
        get.next_attempt().unwrap();
        assert!(matches!(
            get.on_response(answer(system), Duration::ZERO),
            Step::Fail(_)
        ));
        // A POST: not repeated after a SYSTEM error, but after a call limit.
        let mut post = s.call(Method::Post, "/order/update", &[], &[]).unwrap();
        post.next_attempt().unwrap();
        assert!(matches!(
            post.on_response(answer(system), Duration::ZERO),
            Step::Fail(_)
        ));
        let mut post = s.call(Method::Post, "/order/update", &[], &[]).unwrap();
        post.next_attempt().unwrap();
        assert!(matches!(
            post.on_response(answer(limit), Duration::ZERO),
            Step::Wait(_)
        ));
        // A signature error never.
        let mut get = s.call(Method::Get, "/order/get", &[], &[]).unwrap();
        get.next_attempt().unwrap();
        let bad = r#"{"type":"ISV","code":"IncompleteSignature","message":"bad"}"#;
        assert!(matches!(
            get.on_response(answer(bad), Duration::ZERO),
            Step::Fail(_)
        ));
        // Without a policy: the first error ends it.
        let s = session(None);
        let mut get = s.call(Method::Get, "/order/get", &[], &[]).unwrap();
        get.next_attempt().unwrap();
        assert!(matches!(
            get.on_response(answer(limit), Duration::ZERO),
            Step::Fail(_)
        ));
    }

    #[test]
    fn a_deadline_cuts_the_request_and_names_itself() {
        let s = session(None);
        let deadline = Deadline::after(Duration::from_secs(2), TimeoutKind::ExportDeadline);
        let mut call = s
            .call(Method::Get, "/order/get", &[], &[])
            .unwrap()
            .deadline(Some(deadline));
        let attempt = call.next_attempt().unwrap();
        assert!(
            attempt
                .timeout()
                .is_some_and(|t| t <= Duration::from_secs(2))
        );
        let timeout = Err(Error::Timeout {
            kind: TimeoutKind::Request,
            limit: Duration::from_secs(2),
        });
        match call.on_response(timeout, Duration::from_secs(2)) {
            Step::Fail(Error::Timeout { kind, .. }) => {
                assert_eq!(kind, TimeoutKind::ExportDeadline)
            }
            other => panic!("{other:?}"),
        }
        let gone = Deadline::after(Duration::ZERO, TimeoutKind::ExportDeadline);
        let mut call = s
            .call(Method::Get, "/order/get", &[], &[])
            .unwrap()
            .deadline(Some(gone));
        assert!(matches!(
            call.next_attempt(),
            Err(Error::Timeout {
                kind: TimeoutKind::ExportDeadline,
                ..
            })
        ));
    }

    #[test]
    fn the_blocking_loop_runs_a_call_to_its_end() {
        let policy = RetryPolicy::new(3).initial_backoff(Duration::from_millis(1));
        let s = session(Some(policy));
        let call = s.call(Method::Get, "/order/get", &[], &[]).unwrap();
        let mut sent = 0;
        let value = run_blocking(
            call,
            |_| {
                sent += 1;
                if sent < 3 {
                    answer(r#"{"type":"ISV","code":"ApiCallLimit","message":"slow"}"#)
                } else {
                    answer(r#"{"code":"0","data":{"n":3}}"#)
                }
            },
            |_| {},
        )
        .unwrap();
        assert_eq!(value["data"]["n"], 3);
        assert_eq!(sent, 3);
    }
}
