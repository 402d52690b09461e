//! A progress line on stderr, drawn only when stderr is a terminal.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Counts records and redraws `\r<done>/<total> records ...` at most ten
/// times a second. When stderr is not a terminal it draws nothing.
pub(crate) struct Progress {
    label: String,
    done: u64,
    total: Option<u64>,
    started: Instant,
    last_draw: Option<Instant>,
    enabled: bool,
}

impl Progress {
    /// A progress line for `label`, on when stderr is a terminal.
    pub(crate) fn new(label: &str) -> Self {
        Self::with_enabled(label, std::io::stderr().is_terminal())
    }

    pub(crate) fn with_enabled(label: &str, enabled: bool) -> Self {
        Self {
            label: label.to_owned(),
            done: 0,
            total: None,
            started: Instant::now(),
            last_draw: None,
            enabled,
        }
    }

    /// Counts one record; `total` once it is known.
    pub(crate) fn tick(&mut self, total: Option<u64>) {
        self.done += 1;
        if total.is_some() {
            self.total = total;
        }
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if self
            .last_draw
            .is_none_or(|t| now.duration_since(t) >= Duration::from_millis(100))
        {
            self.last_draw = Some(now);
            self.draw();
        }
    }

    /// Records counted so far.
    pub(crate) fn done(&self) -> u64 {
        self.done
    }

    /// Seconds since the start.
    pub(crate) fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    fn draw(&self) {
        let elapsed = self.elapsed().max(1e-9);
        let rate = self.done as f64 / elapsed;
        let line = match self.total {
            Some(total) if total > 0 => {
                let width = 30usize;
                let filled = ((self.done.min(total) as f64 / total as f64) * width as f64) as usize;
                format!(
                    "{} [{}{}] {}/{} records, {:.0}/s",
                    self.label,
                    "#".repeat(filled),
                    "-".repeat(width - filled),
                    self.done,
                    total,
                    rate
                )
            }
            _ => format!("{} {} records, {:.0}/s", self.label, self.done, rate),
        };
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line}\x1b[K");
        let _ = err.flush();
    }

    /// Draws the final state and ends the line.
    pub(crate) fn finish(&mut self) {
        if self.enabled {
            self.draw();
            eprintln!();
        }
    }
}
