//! `vectors FILE...`: runs vector files through the signing crates and
//! prints one line per failure, then `N passed, M failed`.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let files: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if files.is_empty() {
        eprintln!(
            "usage: vectors FILE.json...  (the schema is documented in tests/vectors/README.md)"
        );
        return ExitCode::from(2);
    }
    let mut total = sdk_vectors::Report::default();
    let mut unreadable = 0;
    for path in &files {
        match sdk_vectors::VectorFile::load(path) {
            Ok(file) => {
                let report = sdk_vectors::run(&file);
                for failure in &report.failures {
                    println!("{}: {failure}", path.display());
                }
                total.merge(report);
            }
            Err(message) => {
                println!("ERROR {message}");
                unreadable += 1;
            }
        }
    }
    println!(
        "{} passed, {} failed",
        total.passed(),
        total.failed() + unreadable
    );
    if total.failed() > 0 || unreadable > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
