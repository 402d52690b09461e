//! Who may call the mock: API tokens (token only or HMAC) and SSH users, and
//! the store code they call. Read from the `--credentials FILE` JSON format
//! or built in code.

use std::fmt;

use base64ct::Encoding as _;
use miva_sign::{ApiToken, Credential, HmacDigest, RsaPublicKey, SigningKey};
use ring::rand::SecureRandom as _;
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind};

/// The store code used when none is given.
pub const DEFAULT_STORE_CODE: &str = "STORE";

/// How a token must sign its requests (the token's *Signature* setting in
/// the Miva admin). The JSON names are `sha256`, `sha1` and `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenDigest {
    /// `MIVA-HMAC-SHA256 <token>:<signature>` only.
    Sha256,
    /// `MIVA-HMAC-SHA1 <token>:<signature>` only.
    Sha1,
    /// `MIVA <token>`: no signature.
    NoSignature,
}

impl TokenDigest {
    /// Reads `sha256`, `sha1` or `none` (any case).
    ///
    /// # Errors
    /// [`ErrorKind::Credentials`] naming the accepted values.
    pub fn from_name(name: &str) -> Result<Self, Error> {
        match name.trim().to_ascii_lowercase().as_str() {
            "sha256" | "sha-256" => Ok(Self::Sha256),
            "sha1" | "sha-1" => Ok(Self::Sha1),
            "none" | "" => Ok(Self::NoSignature),
            other => Err(credentials(format!(
                "digest {other:?} is not supported: use \"sha256\", \"sha1\" or \"none\""
            ))),
        }
    }

    /// The JSON name: `sha256`, `sha1` or `none`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha1 => "sha1",
            Self::NoSignature => "none",
        }
    }

    /// The HMAC digest, if this is an HMAC setting.
    pub fn hmac(self) -> Option<HmacDigest> {
        match self {
            Self::Sha256 => Some(HmacDigest::Sha256),
            Self::Sha1 => Some(HmacDigest::Sha1),
            Self::NoSignature => None,
        }
    }
}

/// The signing key as text (to write it back out) and decoded.
#[derive(Clone)]
struct KeyText {
    text: Zeroizing<String>,
    key: SigningKey,
}

/// One API token the mock accepts.
///
/// `Debug` redacts the token and the signing key.
#[derive(Clone)]
pub struct TokenConfig {
    token: ApiToken,
    signing_key: Option<KeyText>,
    digest: TokenDigest,
    require_timestamp: bool,
    functions: Option<Vec<String>>,
}

impl TokenConfig {
    /// A token used without a signature (`MIVA <token>`). Requires a
    /// timestamp by default.
    ///
    /// # Errors
    /// [`ErrorKind::Credentials`] when the token is empty or has characters
    /// a token never has.
    pub fn token_only(token: &str) -> Result<Self, Error> {
        Ok(Self {
            token: parse_token(token)?,
            signing_key: None,
            digest: TokenDigest::NoSignature,
            require_timestamp: true,
            functions: None,
        })
    }

    /// A token whose requests must carry an HMAC signature with `digest`,
    /// keyed with the base64 `signing_key` (padded or not, as the admin shows
    /// it). Requires a timestamp by default.
    ///
    /// # Errors
    /// [`ErrorKind::Credentials`] when the token or the key is unusable.
    pub fn hmac(token: &str, signing_key: &str, digest: HmacDigest) -> Result<Self, Error> {
        Ok(Self {
            token: parse_token(token)?,
            signing_key: Some(parse_key(signing_key)?),
            digest: match digest {
                HmacDigest::Sha256 => TokenDigest::Sha256,
                HmacDigest::Sha1 => TokenDigest::Sha1,
            },
            require_timestamp: true,
            functions: None,
        })
    }

    /// Sets whether requests must carry `Miva_Request_Timestamp`.
    #[must_use]
    pub fn with_require_timestamp(mut self, require: bool) -> Self {
        self.require_timestamp = require;
        self
    }

    /// Restricts the token to these functions (as `Function` or
    /// `<store code>:Function`); other calls get `Access denied`.
    #[must_use]
    pub fn with_functions<I, S>(mut self, functions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.functions = Some(functions.into_iter().map(Into::into).collect());
        self
    }

    /// The token.
    pub fn token(&self) -> &ApiToken {
        &self.token
    }

    /// The signing key as base64 text, if the token has one.
    pub fn signing_key_base64(&self) -> Option<&str> {
        self.signing_key.as_ref().map(|k| k.text.as_str())
    }

    /// The decoded signing key, if the token has one.
    pub fn signing_key(&self) -> Option<&SigningKey> {
        self.signing_key.as_ref().map(|k| &k.key)
    }

    /// The signature the token must use.
    pub fn digest(&self) -> TokenDigest {
        self.digest
    }

    /// Whether requests must carry `Miva_Request_Timestamp`.
    pub fn require_timestamp(&self) -> bool {
        self.require_timestamp
    }

    /// The functions the token is restricted to, if any.
    pub fn functions(&self) -> Option<&[String]> {
        self.functions.as_deref()
    }

    /// The client-side credential that signs requests the way this token
    /// must: handy for tests and demos.
    pub fn credential(&self) -> Credential {
        match (self.digest.hmac(), &self.signing_key) {
            (Some(digest), Some(key)) => Credential::hmac(self.token.clone(), &key.key, digest),
            _ => Credential::token(self.token.clone()),
        }
    }

    fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("token".into(), Value::from(self.token.expose()));
        if let Some(key) = &self.signing_key {
            map.insert("signing_key".into(), Value::from(key.text.as_str()));
        }
        map.insert("digest".into(), Value::from(self.digest.name()));
        map.insert(
            "require_timestamp".into(),
            Value::from(self.require_timestamp),
        );
        if let Some(functions) = &self.functions {
            map.insert("functions".into(), json!(functions));
        }
        Value::Object(map)
    }
}

impl fmt::Debug for TokenConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenConfig")
            .field("token", &self.token)
            .field(
                "signing_key",
                &self
                    .signing_key
                    .as_ref()
                    .map(|_| format_args!("<redacted>")),
            )
            .field("digest", &self.digest)
            .field("require_timestamp", &self.require_timestamp)
            .field("functions", &self.functions)
            .finish()
    }
}

/// One Miva admin user allowed in by SSH key (`SSH-RSA-SHA2-256` /
/// `SSH-RSA-SHA2-512`). SSH requests always need a timestamp.
#[derive(Clone)]
pub struct SshUserConfig {
    username: String,
    public_key_text: String,
    public_key: RsaPublicKey,
    functions: Option<Vec<String>>,
}

impl SshUserConfig {
    /// A user and their public key (`ssh-rsa AAAA...` or PEM).
    ///
    /// # Errors
    /// [`ErrorKind::Credentials`] when the username is empty or the key is
    /// not a usable RSA public key.
    pub fn new(username: &str, public_key: &str) -> Result<Self, Error> {
        if username.is_empty() {
            return Err(credentials("the SSH username is empty"));
        }
        let key = RsaPublicKey::from_text(public_key).map_err(|e| credentials(e.to_string()))?;
        Ok(Self {
            username: username.to_owned(),
            public_key_text: public_key.trim().to_owned(),
            public_key: key,
            functions: None,
        })
    }

    /// Restricts the user to these functions; other calls get `Access denied`.
    #[must_use]
    pub fn with_functions<I, S>(mut self, functions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.functions = Some(functions.into_iter().map(Into::into).collect());
        self
    }

    /// The Miva admin username.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The public key.
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.public_key
    }

    /// The functions the user is restricted to, if any.
    pub fn functions(&self) -> Option<&[String]> {
        self.functions.as_deref()
    }

    fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("username".into(), Value::from(self.username.as_str()));
        map.insert(
            "public_key".into(),
            Value::from(self.public_key_text.as_str()),
        );
        if let Some(functions) = &self.functions {
            map.insert("functions".into(), json!(functions));
        }
        Value::Object(map)
    }
}

impl fmt::Debug for SshUserConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SshUserConfig")
            .field("username", &self.username)
            .field("public_key_bits", &self.public_key.bits())
            .field("functions", &self.functions)
            .finish()
    }
}

/// The store code and everyone allowed to call it.
///
/// The JSON format (the `--credentials FILE` of `miva mock`):
///
/// ```json
/// {
///   "store_code": "STORE",
///   "tokens": [
///     {"token": "0f90f77b58ca98836eba3d50f526f523",
///      "signing_key": "NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ",
///      "digest": "sha256", "require_timestamp": true,
///      "functions": ["ProductList_Load_Query"]}
///   ],
///   "ssh_users": [{"username": "apiuser", "public_key": "ssh-rsa AAAA..."}]
/// }
/// ```
///
/// `store_code` defaults to `STORE`; `digest` defaults to `sha256` when a
/// `signing_key` is given and `none` otherwise; `require_timestamp` defaults
/// to `true`; `functions` (optional) restricts what may be called. Unknown
/// keys are errors, so a typo is not silently ignored.
///
/// `Debug` redacts tokens and signing keys; [`Credentials::to_json`] does not
/// (it is how generated credentials are handed to the user).
#[derive(Clone)]
pub struct Credentials {
    store_code: String,
    tokens: Vec<TokenConfig>,
    ssh_users: Vec<SshUserConfig>,
}

impl Credentials {
    /// No tokens and no users yet, for the store `store_code`.
    ///
    /// # Errors
    /// [`ErrorKind::Credentials`] when the store code is empty or has
    /// whitespace.
    pub fn new(store_code: &str) -> Result<Self, Error> {
        Ok(Self {
            store_code: parse_store_code(store_code)?,
            tokens: Vec::new(),
            ssh_users: Vec::new(),
        })
    }

    /// Adds a token (replacing one with the same token text).
    #[must_use]
    pub fn with_token(mut self, token: TokenConfig) -> Self {
        self.tokens
            .retain(|t| t.token.expose() != token.token.expose());
        self.tokens.push(token);
        self
    }

    /// Adds an SSH user (replacing one with the same username).
    #[must_use]
    pub fn with_ssh_user(mut self, user: SshUserConfig) -> Self {
        self.ssh_users.retain(|u| u.username != user.username);
        self.ssh_users.push(user);
        self
    }

    /// Fresh random credentials for the store `STORE`: one token of 32 hex
    /// digits with a 32-byte signing key (unpadded base64, as the Miva admin
    /// shows it), `sha256`, timestamps required.
    ///
    /// # Errors
    /// [`ErrorKind::Random`] when the system random source fails.
    pub fn generate() -> Result<Self, Error> {
        let rng = ring::rand::SystemRandom::new();
        let mut token = [0u8; 16];
        let mut key = Zeroizing::new([0u8; 32]);
        rng.fill(&mut token)
            .and_then(|()| rng.fill(key.as_mut()))
            .map_err(|_| {
                Error::new(
                    ErrorKind::Random,
                    "the system random source failed while generating credentials",
                )
            })?;
        let token_hex: String = token.iter().map(|b| format!("{b:02x}")).collect();
        let key_b64 = Zeroizing::new(base64ct::Base64Unpadded::encode_string(key.as_ref()));
        let token = TokenConfig::hmac(&token_hex, &key_b64, HmacDigest::Sha256)?;
        Ok(Self {
            store_code: DEFAULT_STORE_CODE.to_owned(),
            tokens: vec![token],
            ssh_users: Vec::new(),
        })
    }

    /// Reads the JSON format described on [`Credentials`].
    ///
    /// # Errors
    /// [`ErrorKind::Credentials`], naming the field that is wrong (for
    /// example `tokens[1].digest`) and what was expected.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| credentials(format!("the credentials are not valid JSON: {e}")))?;
        let Value::Object(root) = value else {
            return Err(credentials(format!(
                "the credentials must be a JSON object with \"store_code\", \"tokens\" and \
                 \"ssh_users\", found {}",
                type_name(&value)
            )));
        };
        check_keys(&root, "", &["store_code", "tokens", "ssh_users"])?;
        let store_code = match root.get("store_code") {
            None | Some(Value::Null) => DEFAULT_STORE_CODE.to_owned(),
            Some(Value::String(s)) => parse_store_code(s).map_err(|e| at("store_code", &e))?,
            Some(other) => return Err(wrong_type("store_code", "a string", other)),
        };
        let mut creds = Self {
            store_code,
            tokens: Vec::new(),
            ssh_users: Vec::new(),
        };
        for (i, entry) in array(&root, "tokens")?.iter().enumerate() {
            let path = format!("tokens[{i}]");
            let token = token_from_json(entry, &path)?;
            if creds
                .tokens
                .iter()
                .any(|t| t.token.expose() == token.token.expose())
            {
                return Err(credentials(format!(
                    "{path}.token: the same token is listed twice"
                )));
            }
            creds.tokens.push(token);
        }
        for (i, entry) in array(&root, "ssh_users")?.iter().enumerate() {
            let path = format!("ssh_users[{i}]");
            let user = ssh_user_from_json(entry, &path)?;
            if creds.ssh_users.iter().any(|u| u.username == user.username) {
                return Err(credentials(format!(
                    "{path}.username: the user {:?} is listed twice",
                    user.username
                )));
            }
            creds.ssh_users.push(user);
        }
        if creds.tokens.is_empty() && creds.ssh_users.is_empty() {
            return Err(credentials(
                "the credentials list no \"tokens\" and no \"ssh_users\": nobody could call \
                 the mock; add a token, or use generated credentials",
            ));
        }
        Ok(creds)
    }

    /// The credentials in the JSON format of [`Credentials::from_json`],
    /// pretty-printed. **Contains the tokens and signing keys.**
    pub fn to_json(&self) -> String {
        let value = json!({
            "store_code": self.store_code,
            "tokens": self.tokens.iter().map(TokenConfig::to_json).collect::<Vec<_>>(),
            "ssh_users": self.ssh_users.iter().map(SshUserConfig::to_json).collect::<Vec<_>>(),
        });
        serde_json::to_string_pretty(&value).unwrap_or_default()
    }

    /// The store code callers must send as `Store_Code`.
    pub fn store_code(&self) -> &str {
        &self.store_code
    }

    /// The tokens.
    pub fn tokens(&self) -> &[TokenConfig] {
        &self.tokens
    }

    /// The SSH users.
    pub fn ssh_users(&self) -> &[SshUserConfig] {
        &self.ssh_users
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("store_code", &self.store_code)
            .field("tokens", &self.tokens)
            .field("ssh_users", &self.ssh_users)
            .finish()
    }
}

fn token_from_json(entry: &Value, path: &str) -> Result<TokenConfig, Error> {
    let Value::Object(map) = entry else {
        return Err(wrong_type(path, "an object", entry));
    };
    check_keys(
        map,
        path,
        &[
            "token",
            "signing_key",
            "digest",
            "require_timestamp",
            "functions",
        ],
    )?;
    let token_path = format!("{path}.token");
    let token = match map.get("token") {
        Some(Value::String(s)) => parse_token(s).map_err(|e| at(&token_path, &e))?,
        None | Some(Value::Null) => {
            return Err(credentials(format!("{token_path} is missing")));
        }
        Some(other) => return Err(wrong_type(&token_path, "a string", other)),
    };
    let key_path = format!("{path}.signing_key");
    let signing_key = match map.get("signing_key") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(parse_key(s).map_err(|e| at(&key_path, &e))?),
        Some(other) => return Err(wrong_type(&key_path, "a string", other)),
    };
    let digest_path = format!("{path}.digest");
    let digest = match map.get("digest") {
        None | Some(Value::Null) => {
            if signing_key.is_some() {
                TokenDigest::Sha256
            } else {
                TokenDigest::NoSignature
            }
        }
        Some(Value::String(s)) => TokenDigest::from_name(s).map_err(|e| at(&digest_path, &e))?,
        Some(other) => return Err(wrong_type(&digest_path, "a string", other)),
    };
    if digest.hmac().is_some() && signing_key.is_none() {
        return Err(credentials(format!(
            "{key_path} is missing: digest {:?} needs the token's base64 signing key (or set \
             \"digest\": \"none\" for a token-only header)",
            digest.name()
        )));
    }
    let ts_path = format!("{path}.require_timestamp");
    let require_timestamp = match map.get("require_timestamp") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(wrong_type(&ts_path, "true or false", other)),
    };
    let functions = functions_from_json(map, path)?;
    Ok(TokenConfig {
        token,
        signing_key,
        digest,
        require_timestamp,
        functions,
    })
}

fn ssh_user_from_json(entry: &Value, path: &str) -> Result<SshUserConfig, Error> {
    let Value::Object(map) = entry else {
        return Err(wrong_type(path, "an object", entry));
    };
    check_keys(map, path, &["username", "public_key", "functions"])?;
    let user_path = format!("{path}.username");
    let username = match map.get("username") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::String(_)) => return Err(credentials(format!("{user_path} is empty"))),
        None | Some(Value::Null) => return Err(credentials(format!("{user_path} is missing"))),
        Some(other) => return Err(wrong_type(&user_path, "a string", other)),
    };
    let key_path = format!("{path}.public_key");
    let key_text = match map.get("public_key") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => {
            return Err(credentials(format!(
                "{key_path} is missing: give the user's `ssh-rsa AAAA...` line"
            )));
        }
        Some(other) => return Err(wrong_type(&key_path, "a string", other)),
    };
    let key =
        RsaPublicKey::from_text(&key_text).map_err(|e| credentials(format!("{key_path}: {e}")))?;
    Ok(SshUserConfig {
        username,
        public_key_text: key_text.trim().to_owned(),
        public_key: key,
        functions: functions_from_json(map, path)?,
    })
}

fn functions_from_json(map: &Map<String, Value>, path: &str) -> Result<Option<Vec<String>>, Error> {
    let fpath = format!("{path}.functions");
    match map.get("functions") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
                other => Err(wrong_type(
                    &format!("{fpath}[{i}]"),
                    "a non-empty function name",
                    other,
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(wrong_type(&fpath, "an array of function names", other)),
    }
}

fn array<'a>(root: &'a Map<String, Value>, key: &str) -> Result<&'a [Value], Error> {
    match root.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(wrong_type(key, "an array", other)),
    }
}

fn check_keys(map: &Map<String, Value>, path: &str, allowed: &[&str]) -> Result<(), Error> {
    for key in map.keys() {
        if !allowed.contains(&key.as_str()) {
            let full = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            return Err(credentials(format!(
                "{full}: unknown key; expected one of {}",
                allowed
                    .iter()
                    .map(|k| format!("\"{k}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    Ok(())
}

fn parse_token(token: &str) -> Result<ApiToken, Error> {
    ApiToken::new(token).map_err(|e| credentials(e.to_string()))
}

fn parse_key(text: &str) -> Result<KeyText, Error> {
    let key = SigningKey::from_base64(text).map_err(|e| credentials(e.to_string()))?;
    Ok(KeyText {
        text: Zeroizing::new(text.trim().to_owned()),
        key,
    })
}

fn parse_store_code(code: &str) -> Result<String, Error> {
    let code = code.trim();
    if code.is_empty() {
        return Err(credentials("the store code is empty"));
    }
    if code.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(credentials(format!(
            "the store code {code:?} has whitespace; store codes are single words"
        )));
    }
    Ok(code.to_owned())
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn wrong_type(path: &str, expected: &str, found: &Value) -> Error {
    credentials(format!(
        "{path} must be {expected}, found {}",
        type_name(found)
    ))
}

fn at(path: &str, err: &Error) -> Error {
    credentials(format!("{path}: {err}"))
}

fn credentials(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Credentials, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_credentials_have_the_documented_shape() {
        let creds = Credentials::generate().unwrap();
        assert_eq!(creds.store_code(), DEFAULT_STORE_CODE);
        let token = &creds.tokens()[0];
        let text = token.token().expose();
        assert_eq!(text.len(), 32);
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        let key = token.signing_key_base64().unwrap();
        assert_eq!(key.len(), 43);
        assert!(!key.contains('='));
        assert_eq!(token.digest(), TokenDigest::Sha256);
        assert!(token.require_timestamp());
        let other = Credentials::generate().unwrap();
        assert_ne!(other.tokens()[0].token().expose(), text);
        // Round trip through the JSON format.
        let back = Credentials::from_json(&creds.to_json()).unwrap();
        assert_eq!(back.tokens()[0].token().expose(), text);
        assert_eq!(back.tokens()[0].signing_key_base64(), Some(key));
    }

    #[test]
    fn debug_redacts_secrets() {
        let creds = Credentials::new("S").unwrap().with_token(
            TokenConfig::hmac(
                "0f90f77b58ca98836eba3d50f526f523",
                "NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ",
                HmacDigest::Sha1,
            )
            .unwrap(),
        );
        let text = format!("{creds:?}");
        assert!(!text.contains("0f90f77b"), "{text}");
        assert!(!text.contains("NglO1"), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
    }

    #[test]
    fn json_defaults() {
        let creds = Credentials::from_json(
            r#"{"tokens": [{"token": "abc", "signing_key": "NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ"},
                           {"token": "def"}]}"#,
        )
        .unwrap();
        assert_eq!(creds.store_code(), "STORE");
        assert_eq!(creds.tokens()[0].digest(), TokenDigest::Sha256);
        assert_eq!(creds.tokens()[1].digest(), TokenDigest::NoSignature);
        assert!(creds.tokens()[1].require_timestamp());
        assert!(creds.tokens()[1].functions().is_none());
    }

    #[test]
    fn json_errors_name_the_field() {
        let cases = [
            ("[]", "must be a JSON object"),
            ("{", "not valid JSON"),
            (r#"{"tokens": {}}"#, "tokens must be an array"),
            (
                r#"{"tokens": [{"token": "a", "digest": "md5"}]}"#,
                "tokens[0].digest",
            ),
            (
                r#"{"tokens": [{"token": "a", "digest": "sha1"}]}"#,
                "tokens[0].signing_key is missing",
            ),
            (
                r#"{"tokens": [{"token": "a", "signing_key": "%%%"}]}"#,
                "tokens[0].signing_key",
            ),
            (
                r#"{"tokens": [{"token": "a"}, {"token": ""}]}"#,
                "tokens[1].token",
            ),
            (
                r#"{"tokens": [{"token": "a"}, {"token": "a"}]}"#,
                "listed twice",
            ),
            (
                r#"{"tokens": [{"token": "a", "require_timestamp": "yes"}]}"#,
                "tokens[0].require_timestamp",
            ),
            (
                r#"{"tokens": [{"token": "a", "functions": [1]}]}"#,
                "tokens[0].functions[0]",
            ),
            (
                r#"{"tokens": [{"token": "a", "signingkey": "x"}]}"#,
                "tokens[0].signingkey: unknown key",
            ),
            (
                r#"{"store_code": 5, "tokens": [{"token": "a"}]}"#,
                "store_code must be a string",
            ),
            (
                r#"{"store_code": "a b", "tokens": [{"token": "a"}]}"#,
                "store_code: ",
            ),
            (
                r#"{"ssh_users": [{"username": "u", "public_key": "ssh-ed25519 AAAA"}]}"#,
                "ssh_users[0].public_key",
            ),
            (
                r#"{"ssh_users": [{"public_key": "x"}]}"#,
                "ssh_users[0].username is missing",
            ),
            (r#"{"store_code": "S"}"#, "nobody could call"),
        ];
        for (text, needle) in cases {
            let err = Credentials::from_json(text).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Credentials);
            assert!(err.to_string().contains(needle), "{text}: {err}");
        }
    }
}
