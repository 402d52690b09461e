//! `-o FILE` without losing what FILE held: records go to a temporary file
//! beside it, which replaces FILE (fsync, then rename) only when the export
//! succeeded. On failure FILE is left as it was and the records written so
//! far are kept as `FILE.partial`.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::secrets::CliError;

/// An output file being written; [`AtomicFile::commit`] puts it in place.
/// Dropped without a commit, it is kept as `FILE.partial` (see
/// [`AtomicFile::abandon`]).
#[derive(Debug)]
pub(crate) struct AtomicFile {
    target: PathBuf,
    temp: PathBuf,
    file: Option<File>,
}

/// `FILE.partial`: where the records of a failed export are kept.
pub(crate) fn partial_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    target.with_file_name(name)
}

impl AtomicFile {
    /// Creates the temporary file `.FILE.tmp-<pid>` in FILE's directory
    /// (same file system, so the rename is atomic). FILE is not touched.
    pub(crate) fn create(target: &Path) -> Result<Self, CliError> {
        let name = target.file_name().ok_or_else(|| {
            CliError(format!(
                "the output path {} names no file: give a file name, e.g. -o records.jsonl",
                target.display()
            ))
        })?;
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".tmp-{}", std::process::id()));
        let temp = target.with_file_name(temp_name);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temp)
            .map_err(|e| {
                CliError(format!(
                    "cannot create the temporary output file {} (beside {}): {e}",
                    temp.display(),
                    target.display()
                ))
            })?;
        Ok(Self {
            target: target.to_owned(),
            temp,
            file: Some(file),
        })
    }

    /// The file to write to.
    pub(crate) fn writer(&self) -> Result<File, CliError> {
        match &self.file {
            Some(f) => f.try_clone().map_err(|e| {
                CliError(format!(
                    "cannot open {} for writing: {e}",
                    self.temp.display()
                ))
            }),
            None => Err(CliError("the output file is closed".into())),
        }
    }

    /// Flushes to disk and renames the temporary file over FILE.
    pub(crate) fn commit(mut self) -> Result<(), CliError> {
        let file = self.file.take();
        let synced = file.as_ref().map_or(Ok(()), File::sync_all);
        drop(file);
        synced
            .and_then(|()| std::fs::rename(&self.temp, &self.target))
            .map_err(|e| {
                CliError(format!(
                    "cannot put the export in place as {}: {e}; the records are in {}",
                    self.target.display(),
                    self.temp.display()
                ))
            })?;
        sync_dir(&self.target);
        self.temp = PathBuf::new();
        Ok(())
    }

    /// Keeps what was written as `FILE.partial`, leaves FILE untouched, and
    /// says so on stderr. Returns where the records are.
    pub(crate) fn abandon(mut self) -> PathBuf {
        self.keep_partial()
    }

    fn keep_partial(&mut self) -> PathBuf {
        if self.temp.as_os_str().is_empty() {
            return PathBuf::new();
        }
        let file = self.file.take();
        if let Some(f) = &file {
            let _ = f.sync_all();
        }
        drop(file);
        let partial = partial_path(&self.target);
        let kept = match std::fs::rename(&self.temp, &partial) {
            Ok(()) => partial,
            Err(_) => self.temp.clone(),
        };
        eprintln!(
            "miva: the export failed: {} was left as it was; the records written before the \
             error are in {}",
            self.target.display(),
            kept.display()
        );
        self.temp = PathBuf::new();
        kept
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        let _ = self.keep_partial();
    }
}

/// Makes a rename durable (Unix: fsync of the directory); best effort.
fn sync_dir(target: &Path) {
    #[cfg(unix)]
    {
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = target;
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("miva-output-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).ok();
        d
    }

    #[test]
    fn a_commit_replaces_and_an_abandon_keeps_the_old_file() {
        let d = dir("unit");
        let target = d.join("out.jsonl");
        std::fs::write(&target, b"yesterday\n").ok();

        let out = AtomicFile::create(&target).unwrap_or_else(|e| panic!("{}", e.0));
        out.writer()
            .unwrap_or_else(|e| panic!("{}", e.0))
            .write_all(b"half\n")
            .ok();
        let kept = out.abandon();
        assert_eq!(kept, d.join("out.jsonl.partial"));
        assert_eq!(std::fs::read(&target).ok(), Some(b"yesterday\n".to_vec()));
        assert_eq!(std::fs::read(&kept).ok(), Some(b"half\n".to_vec()));

        let out = AtomicFile::create(&target).unwrap_or_else(|e| panic!("{}", e.0));
        out.writer()
            .unwrap_or_else(|e| panic!("{}", e.0))
            .write_all(b"today\n")
            .ok();
        out.commit().unwrap_or_else(|e| panic!("{}", e.0));
        assert_eq!(std::fs::read(&target).ok(), Some(b"today\n".to_vec()));
        let left: Vec<_> = std::fs::read_dir(&d)
            .map(|r| r.filter_map(Result::ok).map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert_eq!(left.len(), 2, "no temporary file left: {left:?}");
        let _ = std::fs::remove_dir_all(&d);
    }
}
