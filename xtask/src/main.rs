//! Project automation. `cargo xtask test` runs every check CI runs;
//! `cargo xtask vectors FILE...` runs vector files through the signing crates;
//! `cargo xtask bench` measures us against the official SDKs and OpenSSL.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod codegen;

/// Crates of which `cargo tree -d` must never show a second copy: two
/// generations of a crypto crate mean two implementations to trust and
/// twice the code to build.
const CRYPTO_CRATES: &[&str] = &[
    "aes",
    "base64ct",
    "bcrypt-pbkdf",
    "block-buffer",
    "cipher",
    "const-oid",
    "crypto-bigint",
    "crypto-common",
    "cbc",
    "der",
    "des",
    "digest",
    "hmac",
    "md-5",
    "pbkdf2",
    "pem-rfc7468",
    "pkcs1",
    "pkcs5",
    "pkcs8",
    "ring",
    "rsa",
    "scrypt",
    "sha1",
    "sha2",
    "signature",
    "spki",
    "ssh-cipher",
    "ssh-encoding",
    "ssh-key",
    "subtle",
    "zeroize",
    "rustls",
    "rustls-webpki",
    "webpki-roots",
];

/// Crates that must not be in miva-http's build with the `tokio` feature:
/// a second TLS crypto provider (the tree holds rustls on ring only).
const FOREIGN_TLS_CRATES: &[&str] = &[
    "aws-lc-rs",
    "aws-lc-sys",
    "openssl",
    "openssl-sys",
    "native-tls",
];

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let command = args.next().and_then(|a| a.into_string().ok());
    let rest: Vec<OsString> = args.collect();
    let result = match command.as_deref() {
        Some("test") => test(),
        Some("vectors") => vectors(&rest),
        Some("bench") => bench(&rest),
        Some("fuzz") => fuzz(&rest),
        Some("package") => package_check(),
        Some("examples") => examples_against_mock(),
        Some("codegen") => codegen::codegen(&root(), rest.iter().any(|a| a == "--check")),
        _ => {
            eprintln!(
                "usage:\n  cargo xtask test              fmt, clippy, all tests, vector files, dependency check\n  \
                 cargo xtask vectors FILE...   run vector files (schema: tests/vectors/README.md)\n  \
                 cargo xtask bench [--quick]   ours vs the official SDKs and OpenSSL -> target/bench/report.md\n  \
                 cargo xtask fuzz [--seconds N] [TARGET...]   cargo-fuzz (nightly) on every target, N s each\n  \
                 cargo xtask codegen [--check] typed API code from the spec (--check: fail if stale)\n  \
                 cargo xtask package           crate metadata and cargo package of the published crates\n  \
                 cargo xtask examples          the async examples against a mock (needs target/debug/miva)"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("\nxtask: FAILED: {message}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    // xtask/ sits directly under the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

fn run(step: &str, mut cmd: Command) -> Result<(), String> {
    eprintln!("\n==> {step}\n    $ {}", describe(&cmd));
    let status = cmd
        .status()
        .map_err(|e| format!("{step}: could not start: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{step} ({status})"))
    }
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        s.push(' ');
        s.push_str(&arg.to_string_lossy());
    }
    s
}

fn test() -> Result<(), String> {
    eprintln!("\n==> generated API code is current\n    $ cargo xtask codegen --check");
    codegen::codegen(&root(), true)?;

    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--check"]);
    run("formatting", fmt)?;

    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--features",
        "miva-http/tokio",
        "--",
        "-D",
        "warnings",
    ]);
    run("clippy", clippy)?;

    let mut tests = cargo();
    tests.args([
        "test",
        "--workspace",
        "--all-targets",
        "--features",
        "miva-http/tokio",
    ]);
    run("unit and integration tests", tests)?;

    let mut doc = cargo();
    doc.args([
        "test",
        "--workspace",
        "--doc",
        "--features",
        "miva-http/tokio",
    ]);
    run("doc tests", doc)?;

    // The libraries' docs (the CLI's doc comments are its --help text).
    let mut docs = cargo();
    docs.env("RUSTDOCFLAGS", "-D warnings").args([
        "doc",
        "--no-deps",
        "--quiet",
        "--package",
        "miva-sign",
        "--package",
        "miravia-sign",
        "--package",
        "miva-envelope",
        "--package",
        "miva-protocol",
        "--package",
        "miva-http",
        "--features",
        "miva-http/tokio",
        "--package",
        "miva-mock",
        "--package",
        "miva-ssh-agent",
    ]);
    run("library docs build without warnings", docs)?;

    run(
        "published vector files",
        vectors_command(vector_files()?, &[]),
    )?;

    // miva-sign's optional RSA backend: its own tests, and the vector files
    // through it (the workspace run above uses the default, ring).
    let mut aws_lc = cargo();
    aws_lc.args(["test", "--package", "miva-sign", "--features", "aws-lc"]);
    run("miva-sign tests with the aws-lc feature", aws_lc)?;
    let mut platform = cargo();
    platform.args([
        "test",
        "--package",
        "miva-http",
        "--lib",
        "--features",
        "platform-verifier",
    ]);
    run("miva-http with the platform-verifier feature", platform)?;
    run(
        "published vector files, miva-sign with the aws-lc feature",
        vectors_command(vector_files()?, &["--features", "miva-sign/aws-lc"]),
    )?;

    // The same files, checked without our code: Python's standard library
    // for HMAC and Miravia, OpenSSL for RSA.
    let mut independent = Command::new("python3");
    independent.current_dir(root()).arg("tests/gen/verify.py");
    run(
        "vector files, independent check (python3 + openssl)",
        independent,
    )?;

    official_sdks_against_mocks()?;
    examples_against_mock()?;

    package_check()?;
    duplicate_crypto_check()?;
    one_tls_provider_check()?;
    eprintln!("\nxtask: all checks passed");
    Ok(())
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { root().join(p) })
        .unwrap_or_else(|| root().join("target"))
}

/// The official Python SDKs, installed from PyPI into a venv under target/,
/// driven against our mock servers.
fn official_sdks_against_mocks() -> Result<(), String> {
    let mut build = cargo();
    build.args(["build", "--quiet", "--package", "miva-cli"]);
    run("build the miva binary", build)?;
    let python = python_venv()?;
    let mut lazop = Command::new(&python);
    lazop
        .current_dir(root())
        .arg("tests/python/lazop_mock_check.py")
        .arg(target_dir().join("debug/miva"));
    run("lazop-sdk 1.0.3 against miva miravia mock", lazop)?;
    let keys = root().join("crates/miva-sign/tests/data");
    let mut merchantapi = Command::new(&python);
    merchantapi
        .current_dir(root())
        .arg("tests/python/merchantapi_mock_check.py")
        .arg(target_dir().join("debug/miva"))
        .arg(keys.join("rsa2048-pkcs1.pem"))
        .arg(keys.join("rsa2048.pub"));
    run("merchantapi 2.7.0 against miva mock", merchantapi)?;
    let mut cases = cargo();
    cases.args([
        "build",
        "--quiet",
        "--package",
        "miva-envelope",
        "--example",
        "search_cases",
    ]);
    run("build the Search cases for the filter check", cases)?;
    let mut filters = Command::new(&python);
    filters
        .current_dir(root())
        .arg("tests/python/merchantapi_filter_check.py")
        .arg(target_dir().join("debug/miva"))
        .arg(target_dir().join("debug/examples/search_cases"));
    run(
        "merchantapi's FilterExpression and Search select the same records from miva mock",
        filters,
    )?;
    let mut verified = Command::new(&python);
    verified
        .current_dir(root())
        .arg("tests/python/sdk_verified_servers.py")
        .arg(target_dir().join("debug/miva"))
        .arg(keys.join("rsa2048-pkcs1.pem"));
    run(
        "the miva CLI against servers that verify with the official SDKs' code",
        verified,
    )?;
    // Servers written only from the vendor documents by an author who had
    // not read this project's code (tests/blind/README.md).
    let mut blind_self = Command::new("python3");
    blind_self
        .current_dir(root())
        .arg("tests/blind/selftest_servers.py");
    run(
        "the blind servers against the documents' vectors",
        blind_self,
    )?;
    let mut blind = Command::new("python3");
    blind
        .current_dir(root())
        .arg("tests/blind/check_cli.py")
        .arg("--miva-bin")
        .arg(target_dir().join("debug/miva"));
    run(
        "the miva CLI against a store and a gateway it has never seen",
        blind,
    )?;
    let mut spec = Command::new(&python);
    spec.current_dir(root())
        .arg("crates/miva-envelope/spec/extract_merchantapi.py")
        .arg("--check");
    run(
        "the published API spec matches merchantapi 2.7.0's source",
        spec,
    )
}

/// The async examples of miva-http run as a user would run them: the axum
/// service's self-test (against its in-process mock), and `tokio_export`
/// against `miva mock` with the variables the mock prints, which must write
/// every product once, in order.
fn examples_against_mock() -> Result<(), String> {
    use std::io::BufRead;

    let mut build = cargo();
    build.args([
        "build",
        "--quiet",
        "--package",
        "miva-http",
        "--features",
        "tokio",
        "--examples",
    ]);
    run("build the miva-http examples", build)?;
    let examples = target_dir().join("debug/examples");
    let mut axum = Command::new(examples.join("axum_handler"));
    axum.arg("--self-test");
    run(
        "the axum_handler example serves a product from a mock",
        axum,
    )?;

    const PRODUCTS: usize = 1234;
    let miva = target_dir().join("debug/miva");
    eprintln!(
        "\n==> the tokio_export example against miva mock\n    $ {} mock --products {PRODUCTS} | tokio_export",
        miva.display()
    );
    let mut mock = Command::new(&miva)
        .args(["mock", "--products", &PRODUCTS.to_string()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("miva mock: {e}"))?;
    let result = (|| {
        let stdout = mock.stdout.take().ok_or("miva mock: no stdout")?;
        let mut vars = Vec::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.map_err(|e| format!("miva mock: {e}"))?;
            if let Some((name, value)) =
                line.strip_prefix("export ").and_then(|l| l.split_once('='))
            {
                vars.push((name.to_owned(), value.to_owned()));
                if name == "MIVA_DIGEST" {
                    break;
                }
            }
        }
        let out = Command::new(examples.join("tokio_export"))
            .envs(vars)
            .output()
            .map_err(|e| format!("tokio_export: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "tokio_export ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let ids: Vec<i64> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l)
                    .ok()
                    .and_then(|v| v["id"].as_i64())
                    .unwrap_or(-1)
            })
            .collect();
        let expected: Vec<i64> = (1..=PRODUCTS as i64).collect();
        if ids != expected {
            return Err(format!(
                "tokio_export wrote {} records, not the {PRODUCTS} products once each in order",
                ids.len()
            ));
        }
        eprintln!("    ok: {PRODUCTS} records, each once, in order");
        Ok(())
    })();
    let _ = mock.kill();
    let _ = mock.wait();
    result
}

/// The fuzz targets in fuzz/fuzz_targets.
const FUZZ_TARGETS: &[&str] = &[
    "response_decoding",
    "auth_header",
    "miravia_canonical",
    "key_parsing",
];

/// `cargo xtask fuzz [--seconds N] [TARGET...]`: each target for N seconds
/// (default 60) with `cargo +nightly fuzz run`, seeded from fuzz/seeds.
/// Crashes are left in fuzz/artifacts/TARGET and fail the command.
fn fuzz(args: &[OsString]) -> Result<(), String> {
    let mut seconds = 60u64;
    let mut targets: Vec<String> = Vec::new();
    let mut args = args.iter().map(|a| a.to_string_lossy().into_owned());
    while let Some(arg) = args.next() {
        if arg == "--seconds" {
            seconds = args
                .next()
                .and_then(|n| n.parse().ok())
                .ok_or("--seconds needs a whole number")?;
        } else if FUZZ_TARGETS.contains(&arg.as_str()) {
            targets.push(arg);
        } else {
            return Err(format!(
                "unknown fuzz target {arg:?}: one of {}",
                FUZZ_TARGETS.join(", ")
            ));
        }
    }
    if targets.is_empty() {
        targets = FUZZ_TARGETS.iter().map(|t| (*t).to_owned()).collect();
    }
    let dir = root().join("fuzz");
    for target in &targets {
        let corpus = dir.join("corpus").join(target);
        std::fs::create_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
        let mut cmd = Command::new("cargo");
        cmd.current_dir(&dir)
            .args(["+nightly", "fuzz", "run", target.as_str()])
            .arg(&corpus);
        let seeds = dir.join("seeds").join(target);
        if seeds.is_dir() {
            cmd.arg(&seeds);
        }
        cmd.arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg("-print_final_stats=1");
        run(&format!("fuzz {target} for {seconds} s"), cmd)?;
    }
    Ok(())
}

/// The venv under target/ with the official Python SDKs installed; returns
/// its interpreter.
fn python_venv() -> Result<PathBuf, String> {
    let venv = target_dir().join("python-venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        let mut make = Command::new("python3");
        make.args(["-m", "venv"]).arg(&venv);
        run("python venv for the official SDKs", make)?;
    }
    let mut pip = Command::new(&python);
    pip.current_dir(root()).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "-r",
        "tests/gen/requirements.txt",
    ]);
    run("install merchantapi 2.7.0 and lazop-sdk 1.0.3", pip)?;
    Ok(python)
}

/// `cargo xtask bench`: release builds of `miva` and `miva-bench`, the
/// official SDKs in the venv, then tests/python/bench.py writes
/// target/bench/report.md.
fn bench(args: &[OsString]) -> Result<(), String> {
    let quick = match args {
        [] => false,
        [flag] if flag == "--quick" => true,
        _ => return Err("usage: cargo xtask bench [--quick]".to_owned()),
    };
    let release = target_dir().join("release");
    let out = target_dir().join("bench");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    // miva-bench twice: with miva-sign's default RSA backend (ring), then
    // with the `aws-lc` feature.
    let mut build = cargo();
    build.args([
        "build",
        "--release",
        "--quiet",
        "--package",
        "miva-cli",
        "--package",
        "miva-bench",
    ]);
    run("release build of miva and miva-bench", build)?;
    let ring_bench = out.join("miva-bench-ring");
    std::fs::copy(release.join("miva-bench"), &ring_bench)
        .map_err(|e| format!("{}: {e}", ring_bench.display()))?;
    let mut build = cargo();
    build.args([
        "build",
        "--release",
        "--quiet",
        "--package",
        "miva-bench",
        "--features",
        "miva-sign/aws-lc",
    ]);
    run("release build of miva-bench with miva-sign/aws-lc", build)?;
    let python = python_venv()?;
    let mut cmd = Command::new(&python);
    cmd.current_dir(root())
        .arg("tests/python/bench.py")
        .arg("--miva")
        .arg(release.join("miva"))
        .arg("--bench")
        .arg(&ring_bench)
        .arg("--bench-aws-lc")
        .arg(release.join("miva-bench"))
        .arg("--key")
        .arg(root().join("crates/miva-sign/tests/data/rsa2048-pkcs1.pem"))
        .arg("--out")
        .arg(&out);
    if quick {
        cmd.arg("--quick");
    }
    run("benchmarks", cmd)
}

fn vector_files() -> Result<Vec<PathBuf>, String> {
    let dir = root().join("tests/vectors");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("no vector files in {}", dir.display()));
    }
    Ok(files)
}

/// `cargo run` of the vector runner (tests/src/main.rs) on `files`.
fn vectors_command(files: Vec<PathBuf>, cargo_args: &[&str]) -> Command {
    let mut cmd = cargo();
    cmd.args(["run", "--quiet", "--package", "sdk-vectors"]);
    cmd.args(cargo_args);
    cmd.args(["--bin", "vectors", "--"]);
    cmd.args(files);
    cmd
}

fn vectors(files: &[OsString]) -> Result<(), String> {
    if files.is_empty() {
        return Err("name at least one vector file: cargo xtask vectors FILE...".to_owned());
    }
    // Paths are taken relative to where the user ran the command.
    let here = std::env::current_dir().map_err(|e| format!("current directory: {e}"))?;
    run(
        "vector files",
        vectors_command(files.iter().map(|f| here.join(f)).collect(), &[]),
    )
}

fn duplicate_crypto_check() -> Result<(), String> {
    let dupes = crates_in_tree(
        "no second copy of a crypto crate",
        &[
            "--workspace",
            "--duplicates",
            "--edges",
            "normal,build",
            "--depth",
            "0",
            "--features",
            "miva-http/tokio",
        ],
        CRYPTO_CRATES,
    )?;
    if !dupes.is_empty() {
        return Err(format!(
            "two generations of a crypto crate in the build:\n  {}",
            dupes.join("\n  ")
        ));
    }
    eprintln!(
        "    ok: one copy of each of {} crypto crates",
        CRYPTO_CRATES.len()
    );
    Ok(())
}

/// miva-http with every TLS-related feature builds rustls on ring only: no
/// aws-lc, no OpenSSL, no native-tls (reqwest brings none of them as we
/// configure it).
fn one_tls_provider_check() -> Result<(), String> {
    let foreign = crates_in_tree(
        "one TLS crypto provider (ring)",
        &[
            "--package",
            "miva-http",
            "--features",
            "tokio,platform-verifier",
            "--edges",
            "normal,build",
            "--prefix",
            "none",
        ],
        FOREIGN_TLS_CRATES,
    )?;
    if !foreign.is_empty() {
        return Err(format!(
            "a second TLS provider in miva-http's build:\n  {}",
            foreign.join("\n  ")
        ));
    }
    eprintln!("    ok: none of {}", FOREIGN_TLS_CRATES.join(", "));
    Ok(())
}

/// The lines of `cargo tree ARGS` that name one of `names`, sorted and
/// deduplicated (the step is announced as `step`).
fn crates_in_tree(step: &str, args: &[&str], names: &[&str]) -> Result<Vec<String>, String> {
    let mut cmd = cargo();
    cmd.arg("tree").args(args);
    eprintln!("\n==> {step}\n    $ {}", describe(&cmd));
    let out = cmd.output().map_err(|e| format!("cargo tree: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo tree failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let mut found: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|line| {
            line.split_whitespace()
                .next()
                .is_some_and(|name| names.contains(&name))
        })
        .map(str::to_owned)
        .collect();
    found.sort_unstable();
    found.dedup();
    Ok(found)
}

/// The crates.io side of the workspace: every crate that is published
/// (`publish` not false) carries what crates.io and docs.rs show, no crate
/// names a repository (there is no public one yet; a placeholder URL would
/// be published with every crate), and `cargo package` of the published
/// crates succeeds (without building them; it still resolves their
/// dependencies against the crates.io index). The `.crate` files land in
/// target/package.
fn package_check() -> Result<(), String> {
    let mut cmd = cargo();
    cmd.args(["metadata", "--format-version", "1", "--no-deps"]);
    eprintln!(
        "\n==> crate metadata for crates.io and docs.rs\n    $ {}",
        describe(&cmd)
    );
    let out = cmd.output().map_err(|e| format!("cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("cargo metadata: output is not JSON: {e}"))?;
    let packages = metadata
        .get("packages")
        .and_then(serde_json::Value::as_array)
        .ok_or("cargo metadata: no `packages` list in its output")?;
    let mut problems = Vec::new();
    let mut unpublished = Vec::new();
    for package in packages {
        let name = package
            .get("name")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("(unnamed)");
        let manifest = package
            .get("manifest_path")
            .and_then(serde_json::Value::as_str)
            .map(|p| {
                Path::new(p)
                    .strip_prefix(root())
                    .map_or_else(|_| p.to_owned(), |rel| rel.display().to_string())
            })
            .unwrap_or_else(|| format!("{name}'s Cargo.toml"));
        // `publish = false` reads as an empty list of registries.
        let published = !package
            .get("publish")
            .and_then(serde_json::Value::as_array)
            .is_some_and(Vec::is_empty);
        if !published {
            unpublished.push(name.to_owned());
        }
        problems.extend(
            package_metadata_problems(package, published)
                .into_iter()
                .map(|p| format!("{name} ({manifest}): {p}")),
        );
    }
    if !problems.is_empty() {
        return Err(format!(
            "crate metadata for crates.io:\n  {}",
            problems.join("\n  ")
        ));
    }
    eprintln!(
        "    ok: {} crates to publish, {} with publish = false",
        packages.len() - unpublished.len(),
        unpublished.len()
    );

    // --allow-dirty: a local run has uncommitted work; CI's checkout is clean.
    let mut package = cargo();
    package.args(["package", "--workspace", "--no-verify", "--allow-dirty"]);
    for name in &unpublished {
        package.args(["--exclude", name]);
    }
    run("cargo package of the published crates", package)
}

/// What crates.io and docs.rs need from one package's manifest, as
/// messages that name the field and the fix; `published` is false for a
/// crate with `publish = false`, of which only the repository is checked.
fn package_metadata_problems(package: &serde_json::Value, published: bool) -> Vec<String> {
    use serde_json::Value;
    let mut problems = Vec::new();
    if let Some(url) = package.get("repository").and_then(Value::as_str) {
        problems.push(format!(
            "`repository = \"{url}\"`: remove it (and `repository.workspace = true`) while the \
             project has no public repository; set the real one in the root [workspace.package] \
             and drop this check when it has"
        ));
    }
    if !published {
        return problems;
    }
    let text = |field: &str| {
        package
            .get(field)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty())
    };
    if !text("description") {
        problems.push("no `description`: add a one-line summary to [package]".to_owned());
    }
    if !text("license") && !text("license_file") {
        problems.push("no `license`: add `license.workspace = true` to [package]".to_owned());
    }
    if !text("readme") {
        problems.push(
            "no `readme`: add `readme = \"../../README.md\"` (or the crate's own) to [package]"
                .to_owned(),
        );
    }
    let list = |field: &str| -> Vec<&str> {
        package
            .get(field)
            .and_then(Value::as_array)
            .map(|items| items.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    };
    let keywords = list("keywords");
    if keywords.is_empty() || keywords.len() > 5 {
        problems.push(format!(
            "`keywords` has {} entries: crates.io takes 1 to 5; set them in [package]",
            keywords.len()
        ));
    }
    for keyword in keywords {
        let well_formed = keyword.len() <= 20
            && keyword.starts_with(|c: char| c.is_ascii_lowercase())
            && keyword
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !well_formed {
            problems.push(format!(
                "keyword \"{keyword}\": use at most 20 characters, lowercase ASCII letters, \
                 digits, '-' or '_', starting with a letter"
            ));
        }
    }
    let categories = list("categories");
    if categories.is_empty() || categories.len() > 5 {
        problems.push(format!(
            "`categories` has {} entries: crates.io takes 1 to 5 slugs from \
             https://crates.io/category_slugs; set them in [package]",
            categories.len()
        ));
    }
    let docs_rs_all_features = package
        .pointer("/metadata/docs/rs/all-features")
        .and_then(Value::as_bool);
    if docs_rs_all_features != Some(true) {
        problems.push(
            "docs.rs would not document every feature: add `[package.metadata.docs.rs]` with \
             `all-features = true`"
                .to_owned(),
        );
    }
    problems
}
