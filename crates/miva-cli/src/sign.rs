//! `miva sign`: the `X-Miva-API-Authorization` header for a body.

use std::io::Read;
use std::path::PathBuf;

use clap::Args;
use miva_sign::{ApiToken, Credential, HmacDigest, RsaDigest, RsaPrivateKey, SigningKey};

use crate::secrets::{CliError, env, secret};

/// Where the Miva credential comes from. Secrets are read from the
/// environment or from files only.
#[derive(Debug, Args)]
pub(crate) struct MivaCredentialArgs {
    /// File holding the API token (else MIVA_API_TOKEN).
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// File holding the base64 signing key (else MIVA_SIGNING_KEY or
    /// MIVA_SIGNING_KEY_FILE).
    #[arg(long, value_name = "FILE")]
    signing_key_file: Option<PathBuf>,
    /// HMAC digest: sha256 (default), sha1, or none for token-only.
    #[arg(long, env = "MIVA_DIGEST", value_name = "DIGEST")]
    digest: Option<String>,
    /// Miva admin user for SSH authentication.
    #[arg(long, env = "MIVA_SSH_USER", value_name = "USER")]
    ssh_user: Option<String>,
    /// RSA private key file for SSH authentication (PKCS#1, PKCS#8 or
    /// OpenSSH; else MIVA_SSH_KEY_FILE).
    #[arg(long, value_name = "FILE")]
    ssh_key_file: Option<PathBuf>,
    /// Sign through the ssh-agent at SSH_AUTH_SOCK with the key whose
    /// public `.pub` file this is (else MIVA_SSH_PUBLIC_KEY_FILE); the
    /// private key stays in the agent.
    #[arg(long, value_name = "FILE", conflicts_with = "ssh_key_file")]
    ssh_public_key_file: Option<PathBuf>,
    /// File holding the key's passphrase (else MIVA_SSH_PASSPHRASE).
    #[arg(long, value_name = "FILE")]
    ssh_passphrase_file: Option<PathBuf>,
    /// SSH digest: sha256 (default) or sha512.
    #[arg(long, env = "MIVA_SSH_DIGEST", value_name = "DIGEST")]
    ssh_digest: Option<String>,
}

impl MivaCredentialArgs {
    /// Builds the credential the flags and environment describe.
    pub(crate) fn credential(&self) -> Result<Credential, CliError> {
        let ssh_key_file = self
            .ssh_key_file
            .clone()
            .or_else(|| env("MIVA_SSH_KEY_FILE").map(|p| PathBuf::from(p.as_str())));
        let agent_key = self
            .ssh_public_key_file
            .clone()
            .or_else(|| env("MIVA_SSH_PUBLIC_KEY_FILE").map(|p| PathBuf::from(p.as_str())));
        let ssh_digest = || match &self.ssh_digest {
            Some(name) => RsaDigest::from_name(name),
            None => Ok(RsaDigest::Sha256),
        };
        if let Some(public) = agent_key {
            if ssh_key_file.is_some() {
                return Err(CliError(
                    "both a private key file and a public key file for the ssh-agent were \
                     given: use one (MIVA_SSH_KEY_FILE or MIVA_SSH_PUBLIC_KEY_FILE)"
                        .into(),
                ));
            }
            let user = self.ssh_user.as_deref().ok_or_else(|| {
                CliError("an ssh-agent key was given but no user: set MIVA_SSH_USER".into())
            })?;
            let line = std::fs::read_to_string(&public)
                .map_err(|e| CliError(format!("{}: {e}", public.display())))?;
            let signer = miva_ssh_agent::AgentSigner::from_env(&line)
                .map_err(|e| CliError(format!("{}: {e}", public.display())))?;
            return Ok(Credential::ssh_external(
                user,
                std::sync::Arc::new(signer),
                ssh_digest()?,
            )?);
        }
        if self.ssh_user.is_some() || ssh_key_file.is_some() {
            let user = self.ssh_user.as_deref().ok_or_else(|| {
                CliError("an SSH key was given but no user: set MIVA_SSH_USER or --ssh-user".into())
            })?;
            let path = ssh_key_file.ok_or_else(|| {
                CliError(
                    "an SSH user was given but no key: set MIVA_SSH_KEY_FILE or --ssh-key-file"
                        .into(),
                )
            })?;
            let text = crate::secrets::read_secret_file(&path, "SSH private key")?;
            let passphrase = secret(
                "MIVA_SSH_PASSPHRASE",
                None,
                self.ssh_passphrase_file.as_deref(),
                "SSH passphrase",
            )?;
            let key = RsaPrivateKey::from_text(&text, passphrase.as_ref().map(|p| p.as_bytes()))
                .map_err(|e| CliError(format!("{}: {e}", path.display())))?;
            return Ok(Credential::ssh(user, key, ssh_digest()?)?);
        }

        let token = secret(
            "MIVA_API_TOKEN",
            None,
            self.token_file.as_deref(),
            "API token",
        )?
        .ok_or_else(|| {
            CliError(
                "no credential: set MIVA_API_TOKEN (with MIVA_SIGNING_KEY or \
                     MIVA_SIGNING_KEY_FILE), or MIVA_SSH_USER and MIVA_SSH_KEY_FILE"
                    .into(),
            )
        })?;
        let token = ApiToken::new(&token)?;
        let digest = self.digest.as_deref().map(str::trim).unwrap_or("sha256");
        if digest.eq_ignore_ascii_case("none") {
            return Ok(Credential::token(token));
        }
        let digest = HmacDigest::from_name(digest).map_err(|_| {
            CliError(format!(
                "MIVA_DIGEST {digest:?} is not sha256, sha1 or none"
            ))
        })?;
        let key = secret(
            "MIVA_SIGNING_KEY",
            Some("MIVA_SIGNING_KEY_FILE"),
            self.signing_key_file.as_deref(),
            "signing key",
        )?
        .ok_or_else(|| {
            CliError(format!(
                "{} needs a signing key: set MIVA_SIGNING_KEY or MIVA_SIGNING_KEY_FILE \
                 (or MIVA_DIGEST=none for a token-only header)",
                digest.scheme()
            ))
        })?;
        let key = SigningKey::from_base64(&key)?;
        Ok(Credential::hmac(token, &key, digest))
    }
}

/// Print the X-Miva-API-Authorization header line for the body on stdin.
#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// Read the body from this file instead of stdin. The exact bytes are
    /// signed: send the same bytes (e.g. `curl --data-binary @FILE`).
    #[arg(long, value_name = "FILE")]
    body_file: Option<PathBuf>,
    #[command(flatten)]
    credential: MivaCredentialArgs,
}

pub(crate) fn run(args: &SignArgs) -> Result<(), CliError> {
    let credential = args.credential.credential()?;
    let body = match &args.body_file {
        Some(path) => std::fs::read(path)
            .map_err(|e| CliError(format!("cannot read the body file {}: {e}", path.display())))?,
        None => {
            let mut body = Vec::new();
            std::io::stdin()
                .read_to_end(&mut body)
                .map_err(|e| CliError(format!("cannot read the body from stdin: {e}")))?;
            body
        }
    };
    if body.ends_with(b"\n") {
        eprintln!(
            "miva: note: the body ends with a newline, which is signed too; send exactly these \
             {} bytes (curl --data-binary), or sign with `printf` instead of `echo`",
            body.len()
        );
    }
    let header = credential.authorize(&body)?;
    println!("{}: {}", header.name(), header.value());
    Ok(())
}
