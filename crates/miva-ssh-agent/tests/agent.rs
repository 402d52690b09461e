//! Against a real `ssh-agent` started here with a key made here by
//! `ssh-keygen`: the agent's signatures equal the private key's, for any
//! number of calls, and every failure has its own error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use miva_envelope::{ListQuery, ProductListLoadQuery};
use miva_http::miva::MivaClient;
use miva_mock::{Credentials, MockConfig, MockServer, SshUserConfig};
use miva_sign::{Credential, RsaDigest, RsaPrivateKey};
use miva_ssh_agent::{AgentSigner, Error};

struct Agent {
    child: Child,
    dir: PathBuf,
    socket: PathBuf,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn keygen(dir: &Path, name: &str) -> (PathBuf, String) {
    let path = dir.join(name);
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "rsa", "-b", "2048", "-N", "", "-C"])
        .arg(format!("{name}@miva-ssh-agent-test"))
        .arg("-f")
        .arg(&path)
        .status()
        .expect("ssh-keygen is installed");
    assert!(status.success());
    let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
    (path, public)
}

fn ssh_add(agent: &Agent, args: &[&str], key: &Path) {
    let status = Command::new("ssh-add")
        .args(args)
        .arg(key)
        .env("SSH_AUTH_SOCK", &agent.socket)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "ssh-add {args:?}");
}

fn start_agent(tag: &str) -> Agent {
    let dir = std::env::temp_dir().join(format!("miva-agent-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let socket = dir.join("agent.sock");
    let child = Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&socket)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ssh-agent is installed");
    let started = Instant::now();
    while !socket.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "ssh-agent did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Agent { child, dir, socket }
}

fn body(i: usize) -> Vec<u8> {
    format!(r#"{{"Store_Code":"STORE","Function":"ProductList_Load_Query","Count":{i}}}"#)
        .into_bytes()
}

#[test]
fn agent_signatures_equal_the_private_keys_for_many_calls() {
    let agent = start_agent("equal");
    let (key_path, public) = keygen(&agent.dir, "key");
    ssh_add(&agent, &[], &key_path);
    let local =
        RsaPrivateKey::from_text(&std::fs::read_to_string(&key_path).unwrap(), None).unwrap();
    let signer = AgentSigner::new(&agent.socket, &public).unwrap();
    assert!(format!("{signer:?}").contains("key@miva-ssh-agent-test"));
    for digest in [RsaDigest::Sha256, RsaDigest::Sha512] {
        for i in 0..3 {
            assert_eq!(
                signer.sign_message(digest, &body(i)).unwrap(),
                local.sign(digest, &body(i)).unwrap(),
                "{digest:?} body {i}"
            );
        }
    }
    // Headers, through the credential, for many calls in a row.
    let signer = Arc::new(signer);
    for digest in [RsaDigest::Sha256, RsaDigest::Sha512] {
        let via_agent = Credential::ssh_external("api-user", signer.clone(), digest).unwrap();
        let via_key = Credential::ssh("api-user", local_key(&key_path), digest).unwrap();
        for i in 0..100 {
            assert_eq!(
                via_agent.authorize(&body(i)).unwrap().value(),
                via_key.authorize(&body(i)).unwrap().value()
            );
        }
    }
}

fn local_key(path: &Path) -> RsaPrivateKey {
    RsaPrivateKey::from_text(&std::fs::read_to_string(path).unwrap(), None).unwrap()
}

#[test]
fn a_client_calls_a_store_through_the_agent() {
    let agent = start_agent("client");
    let (key_path, public) = keygen(&agent.dir, "key");
    ssh_add(&agent, &[], &key_path);
    let creds = Credentials::new("AGENT")
        .unwrap()
        .with_ssh_user(SshUserConfig::new("agent-user", &public).unwrap());
    let server = MockServer::start(MockConfig::new(creds).with_products(12)).unwrap();
    let signer = Arc::new(AgentSigner::new(&agent.socket, &public).unwrap());
    let credential = Credential::ssh_external("agent-user", signer, RsaDigest::Sha512).unwrap();
    let client = MivaClient::builder(server.url(), credential)
        .store_code("AGENT")
        .build()
        .unwrap();
    let ids: Vec<i64> = client
        .list(ProductListLoadQuery::new(ListQuery::new()))
        .page_size(5)
        .map(|p| p.unwrap().id.unwrap())
        .collect();
    assert_eq!(ids, (1..=12).collect::<Vec<_>>());
}

#[test]
fn each_failure_has_its_own_error() {
    let agent = start_agent("errors");
    let (key_path, public) = keygen(&agent.dir, "key");
    let (_, other_public) = keygen(&agent.dir, "other");
    ssh_add(&agent, &[], &key_path);

    // A key the agent does not hold: named, with the fix.
    match AgentSigner::new(&agent.socket, &other_public) {
        Err(e @ Error::UnknownKey { .. }) => {
            let text = e.to_string();
            assert!(text.contains("other@miva-ssh-agent-test"), "{text}");
            assert!(text.contains("ssh-add"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    // No agent at that path.
    match AgentSigner::new(&agent.dir.join("missing.sock"), &public) {
        Err(e @ Error::Connect { .. }) => assert!(e.to_string().contains("missing.sock")),
        other => panic!("{other:?}"),
    }
    // Not an RSA line.
    assert!(matches!(
        AgentSigner::new(&agent.socket, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA== x"),
        Err(Error::BadPublicKey(_))
    ));
    // The key is removed after the signer was made: the agent's failure
    // reply comes back as such, and through a credential as a miva-sign
    // error that says what happened.
    let signer = AgentSigner::new(&agent.socket, &public).unwrap();
    signer.sign_message(RsaDigest::Sha256, b"x").unwrap();
    ssh_add(&agent, &["-d"], &key_path);
    assert!(matches!(
        signer.sign_message(RsaDigest::Sha256, b"x"),
        Err(Error::AgentRefused)
    ));
    let credential =
        Credential::ssh_external("api-user", Arc::new(signer), RsaDigest::Sha256).unwrap();
    let error = credential.authorize(b"{}").unwrap_err();
    assert_eq!(error.kind(), miva_sign::ErrorKind::ExternalSigner);
    assert!(error.to_string().contains("refused"), "{error}");
    // The agent is gone: a connection error, not a hang.
    drop(agent);
}
