//! The blocking clients' page fetchers: a few threads, each owning what it
//! needs (a client clone), taking jobs from one queue and sending back
//! their answers. Used by the Miva list export ([`crate::miva::Records`])
//! and the Miravia pages ([`crate::miravia::Pages`]) once their first page
//! has arrived and more than one page may be in flight.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use miva_protocol::Error;

/// Threads running `work` on each job sent; dropping the pool ends them
/// (a thread busy with a job finishes it, then finds the queue closed).
pub(crate) struct Pool<J, A> {
    jobs: mpsc::Sender<J>,
    answers: mpsc::Receiver<A>,
    threads: usize,
}

impl<J: Send + 'static, A: Send + 'static> Pool<J, A> {
    /// Starts `threads` threads named `{name}-{n}` (fewer if the system
    /// refuses more, but at least one), each with its own clone of `work`.
    ///
    /// # Errors
    /// [`Error::Config`] when not even one thread could be started.
    pub(crate) fn start<W>(name: &str, threads: usize, work: W) -> Result<Self, Error>
    where
        W: Fn(J) -> A + Clone + Send + 'static,
    {
        let (jobs, job_rx) = mpsc::channel::<J>();
        let (answer_tx, answers) = mpsc::channel();
        let job_rx = Arc::new(Mutex::new(job_rx));
        let mut started = 0;
        for n in 0..threads.max(1) {
            let job_rx = Arc::clone(&job_rx);
            let answer_tx = answer_tx.clone();
            let work = work.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("{name}-{n}"))
                .spawn(move || {
                    loop {
                        let next = match job_rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = next else { return };
                        if answer_tx.send(work(job)).is_err() {
                            return;
                        }
                    }
                });
            match spawned {
                Ok(_) => started += 1,
                Err(e) if started == 0 => {
                    return Err(Error::Config(format!(
                        "could not start a thread to fetch pages ({e}): lower the concurrency"
                    )));
                }
                Err(e) => {
                    tracing::debug!(
                        started,
                        wanted = threads,
                        error = %e,
                        "fewer page threads than asked for"
                    );
                    break;
                }
            }
        }
        Ok(Self {
            jobs,
            answers,
            threads: started,
        })
    }

    /// Hands `job` to the next free thread; `Err` gives it back when every
    /// thread has stopped.
    pub(crate) fn send(&self, job: J) -> Result<(), J> {
        self.jobs.send(job).map_err(|e| e.0)
    }

    /// The next answer, in the order they end; `None` when every thread
    /// has stopped.
    pub(crate) fn recv(&self) -> Option<A> {
        self.answers.recv().ok()
    }

    /// Threads started.
    pub(crate) fn threads(&self) -> usize {
        self.threads
    }
}

/// What a driver says when its threads stopped under it.
pub(crate) fn threads_stopped() -> Error {
    Error::Config("the page fetching threads stopped".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_run_on_the_threads_and_dropping_the_pool_ends_them() {
        let pool = Pool::start("test-page", 3, |n: u64| {
            (n, std::thread::current().name().map(str::to_owned))
        })
        .unwrap();
        assert_eq!(pool.threads(), 3);
        for n in 0..10 {
            assert!(pool.send(n).is_ok());
        }
        let mut answers: Vec<_> = (0..10).map(|_| pool.recv().unwrap()).collect();
        answers.sort();
        assert_eq!(
            answers.iter().map(|a| a.0).collect::<Vec<_>>(),
            (0..10).collect::<Vec<_>>()
        );
        assert!(
            answers
                .iter()
                .all(|a| a.1.as_deref().is_some_and(|n| n.starts_with("test-page-")))
        );
    }
}
