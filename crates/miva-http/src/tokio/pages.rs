//! The one async driver of both platforms' paging machines (Miva's
//! [`ListPager`], Miravia's [`Pager`]): each page request runs as a task of
//! a [`JoinSet`] owned by the stream, so requests, their timeouts and their
//! in-flight permits progress whether or not the consumer is polling (as
//! the blocking driver's threads do), at most the machine's concurrency of
//! pages are in flight or held, and dropping the stream aborts every task.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use miva_protocol::Error;
use miva_protocol::miva::list::Next;
use tokio::task::JoinSet;

use crate::paging::Machine;
use tracing::Instrument;

/// A page request's future.
pub(crate) type PageFuture<P> = Pin<Box<dyn Future<Output = Result<P, Error>> + Send>>;

/// Makes the request future of one fetch (given the machine, for what the
/// fetch needs of it: the export's deadline, the API path).
pub(crate) type Fetcher<M> =
    Box<dyn Fn(&M, <M as Machine>::Fetch) -> PageFuture<<M as Machine>::Page> + Send + Sync>;

/// A paging machine and its page tasks.
pub(crate) struct PageTasks<M: Machine> {
    machine: M,
    fetch: Fetcher<M>,
    tasks: JoinSet<(u64, Result<M::Page, Error>)>,
    ended: bool,
    /// The caller's span when the stream was made, kept across the spawn.
    span: tracing::Span,
}

impl<M: Machine> PageTasks<M> {
    pub(crate) fn new(machine: M, fetch: Fetcher<M>) -> Self {
        Self {
            machine,
            fetch,
            tasks: JoinSet::new(),
            ended: false,
            span: tracing::Span::current(),
        }
    }

    pub(crate) fn machine(&self) -> &M {
        &self.machine
    }

    pub(crate) fn machine_mut(&mut self) -> &mut M {
        &mut self.machine
    }

    /// Page requests running or answered and not yet handed to the
    /// machine.
    pub(crate) fn in_flight(&self) -> usize {
        self.tasks.len()
    }

    fn end(
        &mut self,
        item: Option<Result<M::Record, Error>>,
    ) -> Poll<Option<Result<M::Record, Error>>> {
        self.ended = true;
        self.tasks.abort_all();
        Poll::Ready(item)
    }

    /// The stream's `poll_next`: start what the machine allows, hand it
    /// what has ended, and give out the next record in order.
    pub(crate) fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<M::Record, Error>>> {
        if self.ended {
            return Poll::Ready(None);
        }
        let handle = match tokio::runtime::Handle::try_current() {
            Ok(handle) => handle,
            Err(_) => {
                let error = self.machine.abort(Error::Config(
                    "the page stream was polled outside a tokio runtime: poll it from a task \
                     of one (the requests run on it)"
                        .into(),
                ));
                return self.end(Some(Err(error)));
            }
        };
        loop {
            while let Some(fetch) = self.machine.next_fetch() {
                let offset = M::offset(&fetch);
                let request = (self.fetch)(&self.machine, fetch);
                self.tasks.spawn_on(
                    async move { (offset, request.await) }.instrument(self.span.clone()),
                    &handle,
                );
            }
            let mut arrived = false;
            while let Poll::Ready(Some(joined)) = self.tasks.poll_join_next(cx) {
                match joined {
                    Ok((offset, page)) => self.machine.on_page(offset, page),
                    Err(e) => {
                        let error = self
                            .machine
                            .abort(Error::Config(format!("a page request task failed: {e}")));
                        return self.end(Some(Err(error)));
                    }
                }
                arrived = true;
            }
            match self.machine.next_record() {
                Next::Record(record) => return Poll::Ready(Some(Ok(record))),
                Next::Done => return self.end(None),
                Next::Failed(error) => return self.end(Some(Err(error))),
                Next::Pending if arrived => {}
                Next::Pending if self.tasks.is_empty() => {
                    // Nothing in flight and nothing to start: the machine
                    // cannot go on (never expected; ends rather than hangs).
                    let error = self.machine.abort(Error::Config(
                        "the page stream has no request in flight to wait for".into(),
                    ));
                    return self.end(Some(Err(error)));
                }
                Next::Pending => return Poll::Pending,
            }
        }
    }
}
