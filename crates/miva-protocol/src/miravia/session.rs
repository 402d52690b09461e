//! The settings and non-I/O state of a Miravia client: gateways, signer,
//! token, clock and its learned offset, retry policy; and the token
//! refresh decision.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use miravia_sign::{AppSecret, RequestSigner};
use serde_json::Value;
use zeroize::Zeroizing;

use super::{Call, DEFAULT_PARTNER_ID, FilePart, Gateway, Method, Token};
use crate::{ClockOffset, Error, RetryPolicy, TransportConfig};

/// The clock timestamps come from.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Called with every token a refresh returns (see
/// [`SessionConfig::on_refresh`]).
pub type OnRefresh = Arc<dyn Fn(&Token) + Send + Sync>;

/// Everything a [`Session`] is made from. Start with [`SessionConfig::new`]
/// and change what you need with its setters.
#[non_exhaustive]
pub struct SessionConfig {
    gateway: Gateway,
    token_gateway: Option<Gateway>,
    app_key: String,
    secret: AppSecret,
    token: Option<Token>,
    partner_id: Option<String>,
    auto_refresh: Option<Duration>,
    transport: TransportConfig,
    clock: Clock,
    retry: Option<RetryPolicy>,
    on_refresh: Option<OnRefresh>,
}

impl fmt::Debug for SessionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionConfig")
            .field("gateway", &self.gateway)
            .field("app_key", &self.app_key)
            .field("secret", &self.secret)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

impl SessionConfig {
    /// Calls to `gateway` as the app `app_key` with its app secret; the
    /// default `partner_id` ([`DEFAULT_PARTNER_ID`]), no token, no retries,
    /// the system clock, the default transport settings.
    pub fn new(gateway: Gateway, app_key: &str, secret: AppSecret) -> Self {
        Self {
            gateway,
            token_gateway: None,
            app_key: app_key.to_owned(),
            secret,
            token: None,
            partner_id: Some(DEFAULT_PARTNER_ID.to_owned()),
            auto_refresh: None,
            transport: TransportConfig::default(),
            clock: Arc::new(SystemTime::now),
            retry: None,
            on_refresh: None,
        }
    }

    /// Calls on behalf of a seller: sets the access token.
    #[must_use]
    pub fn access_token(mut self, token: &str) -> Self {
        self.token = Some(Token::new(token, None, None));
        self
    }

    /// A token with its refresh token and expiries.
    #[must_use]
    pub fn token(mut self, token: Token) -> Self {
        self.token = Some(token);
        self
    }

    /// Refresh the access token this long before it expires.
    #[must_use]
    pub fn auto_refresh(mut self, margin: Duration) -> Self {
        self.auto_refresh = Some(margin);
        self
    }

    /// The `partner_id` to send and sign; `None` sends none.
    #[must_use]
    pub fn partner_id(mut self, partner_id: Option<&str>) -> Self {
        self.partner_id = partner_id.map(str::to_owned);
        self
    }

    /// Where token calls go (default [`Gateway::token_gateway`]).
    #[must_use]
    pub fn token_gateway(mut self, gateway: Gateway) -> Self {
        self.token_gateway = Some(gateway);
        self
    }

    /// Transport settings (timeouts, body limit, plain http).
    #[must_use]
    pub fn transport(mut self, config: TransportConfig) -> Self {
        self.transport = config;
        self
    }

    /// The transport settings.
    pub fn transport_config(&self) -> &TransportConfig {
        &self.transport
    }

    /// The clock timestamps come from (tests inject a fixed one).
    #[must_use]
    pub fn clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Retry failed calls where that is safe (see [`RetryPolicy`]).
    #[must_use]
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Called with the new token after every successful refresh (automatic
    /// or explicit), so it can be persisted. It runs inline, on the thread
    /// or task that refreshed, while other calls wait for the refresh: keep
    /// it quick (hand the token to a channel if storing it is slow).
    #[must_use]
    pub fn on_refresh(mut self, callback: impl Fn(&Token) + Send + Sync + 'static) -> Self {
        self.on_refresh = Some(Arc::new(callback));
        self
    }
}

/// Whether the token may be used as it is, or must be refreshed first
/// (see [`Session::token_decision`]).
#[derive(Debug)]
pub enum TokenDecision {
    /// Call with the token as it is (or with none).
    Ready,
    /// Refresh first with this refresh token (one refresh at a time: ask
    /// again once you hold the refresh lock, another caller may have done
    /// it), then install the result with [`Session::refreshed_token`].
    Refresh(Zeroizing<String>),
}

/// The settings and non-I/O state of one Miravia client, shared by its
/// clones (put it in an `Arc`): gateways, signer, token, clock, learned
/// clock offset, retry policy, transport settings.
pub struct Session {
    base: String,
    token_base: String,
    signer: RequestSigner,
    token: RwLock<Option<Token>>,
    auto_refresh: Option<Duration>,
    clock: Clock,
    clock_offset: ClockOffset,
    retry: Option<RetryPolicy>,
    transport: TransportConfig,
    on_refresh: Option<OnRefresh>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("base", &crate::redact_url(&self.base))
            .field("app_key", &self.signer.app_key())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session from `config`.
    ///
    /// # Errors
    /// [`Error::Config`] for an unusable gateway URL (plain http off
    /// loopback unless allowed); [`Error::MiraviaSign`] for an empty app
    /// key or partner id.
    pub fn new(config: SessionConfig) -> Result<Self, Error> {
        let token_gateway = config
            .token_gateway
            .unwrap_or_else(|| config.gateway.token_gateway());
        let insecure = config.transport.allow_insecure_http;
        crate::check_url(config.gateway.base_url(), insecure)?;
        crate::check_url(token_gateway.base_url(), insecure)?;
        let mut signer = RequestSigner::new(&config.app_key, config.secret)?;
        if let Some(partner) = &config.partner_id {
            signer = signer.with_partner_id(partner)?;
        }
        Ok(Self {
            base: config.gateway.base_url().to_owned(),
            token_base: token_gateway.base_url().to_owned(),
            signer,
            token: RwLock::new(config.token),
            auto_refresh: config.auto_refresh,
            clock: config.clock,
            clock_offset: ClockOffset::new(),
            retry: config.retry,
            transport: config.transport,
            on_refresh: config.on_refresh,
        })
    }

    /// The gateway's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The base URL token calls go to.
    pub fn token_base(&self) -> &str {
        &self.token_base
    }

    /// The app key.
    pub fn app_key(&self) -> &str {
        self.signer.app_key()
    }

    /// The transport settings.
    pub fn transport(&self) -> &TransportConfig {
        &self.transport
    }

    /// The retry policy, if any.
    pub fn retry_policy(&self) -> Option<&RetryPolicy> {
        self.retry.as_ref()
    }

    /// This machine's time, from the session's clock.
    pub fn now(&self) -> SystemTime {
        (self.clock)()
    }

    /// The platform's time: this machine's clock plus the learned offset.
    pub fn platform_now(&self) -> SystemTime {
        self.clock_offset.apply(self.now())
    }

    /// The clock offset learned from the platform's `Date` header.
    pub fn clock_offset(&self) -> &ClockOffset {
        &self.clock_offset
    }

    /// The signer, without access token.
    pub(crate) fn signer(&self) -> &RequestSigner {
        &self.signer
    }

    /// The token in use, if any.
    pub fn token(&self) -> Option<Token> {
        self.token
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the token in use.
    pub fn set_token(&self, token: Option<Token>) {
        *self.token.write().unwrap_or_else(PoisonError::into_inner) = token;
    }

    /// The access token in use, if any.
    pub fn access_token(&self) -> Option<Zeroizing<String>> {
        self.token
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|t| Zeroizing::new(t.access_token().to_owned()))
    }

    /// [`Session::token_decision_at`] the clock's time.
    ///
    /// # Errors
    /// As [`Session::token_decision_at`].
    pub fn token_decision(&self) -> Result<TokenDecision, Error> {
        self.token_decision_at(self.now())
    }

    /// Before a call at `now`, with auto-refresh on: whether the access
    /// token must be refreshed first, which it must from `margin` before it
    /// expires (`now + margin >= expires_at`) when there is a refresh token
    /// that has not expired. Without auto-refresh, without a token or
    /// without a known expiry: always [`TokenDecision::Ready`].
    ///
    /// # Errors
    /// [`Error::Config`] when the access token has expired and cannot be
    /// refreshed (no refresh token, or it has expired too): the seller
    /// must authorize the app again; no call is made with a dead token.
    /// Until the access token expires it is used as it is.
    pub fn token_decision_at(&self, now: SystemTime) -> Result<TokenDecision, Error> {
        let Some(margin) = self.auto_refresh else {
            return Ok(TokenDecision::Ready);
        };
        let guard = self.token.read().unwrap_or_else(PoisonError::into_inner);
        let Some(token) = guard.as_ref() else {
            return Ok(TokenDecision::Ready);
        };
        let Some(expires_at) = token.expires_at else {
            return Ok(TokenDecision::Ready);
        };
        let due = now.checked_add(margin).is_none_or(|t| t >= expires_at);
        if !due {
            return Ok(TokenDecision::Ready);
        }
        let refresh_alive = token.refresh_expires_at.is_none_or(|at| now < at);
        match &token.refresh_token {
            Some(refresh) if refresh_alive => Ok(TokenDecision::Refresh(refresh.clone())),
            _ if now < expires_at => Ok(TokenDecision::Ready),
            None => Err(Error::Config(format!(
                "the access token expired {} ago and there is no refresh token to renew it: \
                 have the seller authorize the app again, then call create_token with the new \
                 code and set_token",
                ago(now, expires_at)
            ))),
            Some(_) => Err(Error::Config(format!(
                "the access token expired {} ago and its refresh token expired {} ago: have \
                 the seller authorize the app again, then call create_token with the new code \
                 and set_token",
                ago(now, expires_at),
                ago(now, token.refresh_expires_at.unwrap_or(now))
            ))),
        }
    }

    /// A call to the gateway with the token in use (see
    /// [`Session::token_decision`] first), checked before anything is sent.
    ///
    /// # Errors
    /// [`Error::Config`] for files with GET; [`Error::MiraviaSign`] for an
    /// empty access token.
    pub fn call<'a>(
        &'a self,
        method: Method,
        api_path: &str,
        params: &[(&str, &str)],
        files: &'a [FilePart],
    ) -> Result<Call<'a>, Error> {
        let token = self.access_token();
        Call::new(
            self,
            &self.base,
            method,
            api_path,
            params,
            files,
            token.as_deref().map(String::as_str),
        )
    }

    /// The `/auth/token/create` call for the authorization `code` from the
    /// seller's consent redirect (to the token gateway, with no access
    /// token). Its answer becomes a token with [`Session::created_token`].
    ///
    /// # Errors
    /// As [`Session::call`].
    pub fn create_token_call(&self, code: &str) -> Result<Call<'_>, Error> {
        Call::new(
            self,
            &self.token_base,
            Method::Post,
            "/auth/token/create",
            &[("code", code)],
            &[],
            None,
        )
    }

    /// The `/auth/token/refresh` call for `refresh_token`. Its answer
    /// becomes a token with [`Session::refreshed_token`].
    ///
    /// # Errors
    /// As [`Session::call`].
    pub fn refresh_token_call(&self, refresh_token: &str) -> Result<Call<'_>, Error> {
        Call::new(
            self,
            &self.token_base,
            Method::Post,
            "/auth/token/refresh",
            &[("refresh_token", refresh_token)],
            &[],
            None,
        )
    }

    /// The token in a `/auth/token/create` answer (not installed).
    ///
    /// # Errors
    /// As [`Token::from_response`].
    pub fn created_token(&self, answer: Value) -> Result<Token, Error> {
        Token::from_response(answer, self.now())
    }

    /// The token in a `/auth/token/refresh` answer: installed as the token
    /// in use when `install` (an automatic refresh), then handed to the
    /// `on_refresh` callback.
    ///
    /// # Errors
    /// As [`Token::from_response`].
    pub fn refreshed_token(&self, answer: Value, install: bool) -> Result<Token, Error> {
        let token = Token::from_response(answer, self.now())?;
        if install {
            self.set_token(Some(token.clone()));
        }
        tracing::debug!(installed = install, "access token refreshed");
        if let Some(callback) = &self.on_refresh {
            callback(&token);
        }
        Ok(token)
    }
}

/// How long ago `at` was, for messages.
fn ago(now: SystemTime, at: SystemTime) -> String {
    let secs = now.duration_since(at).map_or(0, |d| d.as_secs());
    format!("{secs} s")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const NOW: u64 = 1_700_000_000;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn session(token: Token, margin: Option<Duration>) -> Session {
        let mut config = SessionConfig::new(
            Gateway::MiraviaEs,
            "123456",
            AppSecret::new("helloworld").unwrap(),
        )
        .token(token)
        .clock(|| at(NOW));
        if let Some(margin) = margin {
            config = config.auto_refresh(margin);
        }
        Session::new(config).unwrap()
    }

    fn is_refresh(d: &Result<TokenDecision, Error>) -> bool {
        matches!(d, Ok(TokenDecision::Refresh(r)) if r.as_str() == "R")
    }

    #[test]
    fn a_refresh_is_due_from_the_margin_before_expiry() {
        let margin = Duration::from_secs(300);
        let s = session(
            Token::new("A", Some("R"), Some(at(NOW + 300))),
            Some(margin),
        );
        // Exactly at the margin: due.
        assert!(is_refresh(&s.token_decision_at(at(NOW))));
        // One second before the margin: not yet.
        assert!(matches!(
            s.token_decision_at(at(NOW - 1)),
            Ok(TokenDecision::Ready)
        ));
        // Past expiry with a live refresh token: due.
        assert!(is_refresh(&s.token_decision_at(at(NOW + 1000))));
        // No auto-refresh, no expiry, no token: never due.
        let off = session(Token::new("A", Some("R"), Some(at(NOW))), None);
        assert!(matches!(off.token_decision(), Ok(TokenDecision::Ready)));
        let unknown = session(Token::new("A", Some("R"), None), Some(margin));
        assert!(matches!(unknown.token_decision(), Ok(TokenDecision::Ready)));
        unknown.set_token(None);
        assert!(matches!(unknown.token_decision(), Ok(TokenDecision::Ready)));
    }

    #[test]
    fn a_dead_token_that_cannot_be_refreshed_is_a_config_error_not_a_call() {
        let margin = Duration::from_secs(300);
        let token = Token::new("A", Some("R"), Some(at(NOW + 100)))
            .with_refresh_expires_at(Some(at(NOW - 10)));
        let s = session(token, Some(margin));
        // Due, the refresh token is dead, but the access token still lives.
        assert!(matches!(
            s.token_decision_at(at(NOW)),
            Ok(TokenDecision::Ready)
        ));
        // Once the access token is dead too: re-authorize.
        let error = s.token_decision_at(at(NOW + 100)).unwrap_err();
        let Error::Config(message) = &error else {
            panic!("{error:?}")
        };
        assert!(
            message.contains("refresh token expired 110 s ago"),
            "{message}"
        );
        assert!(message.contains("authorize the app again"), "{message}");
        // The refresh token's last second is still usable.
        let edge = session(
            Token::new("A", Some("R"), Some(at(NOW))).with_refresh_expires_at(Some(at(NOW + 1))),
            Some(margin),
        );
        assert!(is_refresh(&edge.token_decision_at(at(NOW))));
        // No refresh token at all.
        let bare = session(Token::new("A", None, Some(at(NOW))), Some(margin));
        let error = bare.token_decision_at(at(NOW)).unwrap_err();
        assert!(error.to_string().contains("no refresh token"), "{error}");
    }

    #[test]
    fn a_refreshed_token_is_installed_and_handed_to_the_callback_once() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let calls = Arc::new(AtomicUsize::new(0));
        let (seen2, calls2) = (seen.clone(), calls.clone());
        let config = SessionConfig::new(
            Gateway::MiraviaEs,
            "123456",
            AppSecret::new("helloworld").unwrap(),
        )
        .clock(|| at(NOW))
        .on_refresh(move |t| {
            calls2.fetch_add(1, Ordering::SeqCst);
            seen2.lock().unwrap().push(t.access_token().to_owned());
        });
        let s = Session::new(config).unwrap();
        let answer = serde_json::json!({"access_token": "NEW", "refresh_token": "R2",
            "expires_in": 10, "refresh_expires_in": 20});
        let token = s.refreshed_token(answer.clone(), true).unwrap();
        assert_eq!(token.expires_at, Some(at(NOW + 10)));
        assert_eq!(token.refresh_expires_at, Some(at(NOW + 20)));
        assert_eq!(s.access_token().as_deref().map(String::as_str), Some("NEW"));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // An explicit refresh is reported, not installed.
        s.set_token(None);
        s.refreshed_token(answer, false).unwrap();
        assert!(s.token().is_none());
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(*seen.lock().unwrap(), ["NEW", "NEW"]);
        // A created token is neither.
        s.created_token(serde_json::json!({"access_token": "C"}))
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert!(s.token().is_none());
    }
}
