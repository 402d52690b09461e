//! [`Records`]: a list query's every record, page by page, checked: a
//! thin blocking driver (threads) over the core's
//! [`ListPager`](miva_protocol::miva::list::ListPager).

use std::fmt;
use std::time::Duration;

use miva_envelope::{ListPage, ListRequest};
use miva_protocol::miva::list::{ListPager, Next, PageFetch};
use miva_protocol::{Deadline, Error, TimeoutKind};

use super::MivaClient;
use crate::pool::{self, threads_stopped};

/// The iterator of [`MivaClient::list`]: yields each record exactly once,
/// in order, and stops at `total_count`.
///
/// Nothing the store says about paging is taken on trust. Every page is
/// checked against what was asked, sequentially and concurrently alike:
/// its `start_offset` must be the `Offset` requested (a store that ignores
/// or shifts `Offset` would repeat or skip records), it may hold no more
/// records than `Count`, and fewer (or none) only when it reaches
/// `total_count`; no record may lie past `total_count`, and `total_count`
/// must not change from the first page's. A page that fails a check, or
/// that cannot be fetched, ends the iteration with [`Error::Page`] naming
/// its offset ([`Error::root`] is an [`Error::Pagination`] for a failed
/// check, or the fetch's error); every record before it was yielded
/// exactly once, none after it.
///
/// Limits: [`Records::concurrency`] at most [`MAX_CONCURRENCY`](super::MAX_CONCURRENCY), and never
/// more threads than pages left; each request is bounded by the client's
/// per-request timeout, the whole export by [`Records::deadline`] if set.
///
/// The decisions (which page next, the checks, the order) are the
/// protocol core's [`ListPager`], the same as the async
/// `miva_http::tokio::Records`'; this type only runs the requests.
pub struct Records<R: ListRequest> {
    client: MivaClient,
    request: R,
    start: u64,
    page_size: u64,
    concurrency: usize,
    deadline: Option<Duration>,
    /// Threads started for concurrent fetching.
    workers: usize,
    phase: Phase<R::Record>,
}

impl<R: ListRequest> fmt::Debug for Records<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Records")
            .field("function", &self.request.function())
            .field("page_size", &self.page_size)
            .field("concurrency", &self.concurrency)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

type PageResult<T> = Result<ListPage<T>, Error>;

#[allow(clippy::large_enum_variant)] // one per export, never moved
enum Phase<T> {
    /// Before the first `next()`.
    Start,
    /// Paging: the machine, and the threads once started.
    Run {
        pager: ListPager<T>,
        pool: Option<Pool<T>>,
    },
    /// Ended (done or failed): nothing more.
    End,
}

/// Concurrent fetching: pages to fetch go out, answers come back.
type Pool<T> = pool::Pool<PageFetch, (u64, PageResult<T>)>;

impl<R> Records<R>
where
    R: ListRequest + Send + 'static,
    R::Record: Send + 'static,
{
    pub(super) fn new(client: MivaClient, request: R) -> Self {
        Self {
            client,
            start: request.query().get_offset().unwrap_or(0),
            request,
            page_size: 100,
            concurrency: 1,
            deadline: None,
            workers: 0,
            phase: Phase::Start,
        }
    }

    /// Records per request (default 100; 0 is taken as 1).
    pub fn page_size(mut self, size: u64) -> Self {
        self.page_size = size.max(1);
        self
    }

    /// Pages fetched at once, one thread each (default 1; 0 is taken as
    /// 1; at most [`MAX_CONCURRENCY`](super::MAX_CONCURRENCY), and more is an [`Error::Config`] on
    /// the first `next()`, before anything is sent). Records still come out
    /// in order; at most this many pages are held in memory besides the one
    /// being handed out (each gets 1/(pages + 1) of the body limit), and no
    /// more threads are started than pages remain after the first.
    pub fn concurrency(mut self, pages: usize) -> Self {
        self.concurrency = pages.max(1);
        self
    }

    /// An overall limit on the whole export, from the first `next()`: a
    /// request in flight when it passes is cut off, and the iteration ends
    /// with [`Error::Page`] for the next page due, whose [`Error::root`] is
    /// an [`Error::Timeout`] naming the export deadline. Without it each
    /// page is bounded by the client's per-request timeout only.
    pub fn deadline(mut self, limit: Duration) -> Self {
        self.deadline = Some(limit);
        self
    }

    /// `total_count` once the first page has arrived.
    pub fn total_count(&self) -> Option<u64> {
        match &self.phase {
            Phase::Run { pager, .. } => pager.total_count(),
            _ => None,
        }
    }

    /// How many threads fetch pages (0 until the first page has arrived,
    /// and when fetching sequentially): at most the concurrency, and at
    /// most the pages left after the first.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Starts `threads` page fetchers (fewer if the system refuses more,
    /// but at least one), each owning a client clone.
    fn start_pool(
        &mut self,
        threads: usize,
        deadline: Option<Deadline>,
    ) -> Result<Pool<R::Record>, Error> {
        let client = self.client.clone();
        let request = self.request.clone();
        let pool = pool::Pool::start("miva-page", threads, move |fetch: PageFetch| {
            let page = fetch_page(&client, &request, &fetch, deadline.as_ref());
            (fetch.offset, page)
        })?;
        self.workers = pool.threads();
        Ok(pool)
    }

    /// The next item: runs the machine's fetches (inline for the first
    /// page and when sequential, on the threads otherwise) until it has a
    /// record or an end.
    fn advance(&mut self) -> Option<Result<R::Record, Error>> {
        loop {
            let Phase::Run { pager, pool } = &mut self.phase else {
                return None;
            };
            // Once the first page is in, pages go to the threads.
            if pool.is_none() && self.concurrency > 1 && pager.pages_at_once() > 0 {
                let (threads, deadline) = (pager.pages_at_once(), pager.deadline().cloned());
                let started = self.start_pool(threads, deadline);
                let Phase::Run { pager, pool } = &mut self.phase else {
                    return None;
                };
                match started {
                    Ok(started) => *pool = Some(started),
                    Err(e) => {
                        let error = pager.abort(e);
                        self.phase = Phase::End;
                        return Some(Err(error));
                    }
                }
                continue;
            }
            if let Some(fetch) = pager.next_fetch() {
                match pool {
                    Some(pool) => {
                        if pool.send(fetch).is_err() {
                            pager.on_page(fetch.offset, Err(threads_stopped()));
                        }
                    }
                    None => {
                        let page =
                            fetch_page(&self.client, &self.request, &fetch, pager.deadline());
                        pager.on_page(fetch.offset, page);
                    }
                }
                continue;
            }
            match pager.next_record() {
                Next::Record(record) => return Some(Ok(record)),
                Next::Done => {
                    self.phase = Phase::End;
                    return None;
                }
                Next::Failed(error) => {
                    self.phase = Phase::End;
                    return Some(Err(error));
                }
                Next::Pending => {
                    let answer = pool.as_ref().and_then(pool::Pool::recv);
                    match answer {
                        Some((offset, page)) => pager.on_page(offset, page),
                        _ => {
                            let error = pager.abort(threads_stopped());
                            self.phase = Phase::End;
                            return Some(Err(error));
                        }
                    }
                }
            }
        }
    }
}

/// One page through the blocking client.
fn fetch_page<R: ListRequest>(
    client: &MivaClient,
    request: &R,
    fetch: &PageFetch,
    deadline: Option<&Deadline>,
) -> PageResult<R::Record> {
    client.fetch_page(request, fetch.offset, fetch.count, deadline, fetch.pages)
}

impl<R> Iterator for Records<R>
where
    R: ListRequest + Send + 'static,
    R::Record: Send + 'static,
{
    type Item = Result<R::Record, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if matches!(self.phase, Phase::Start) {
            let deadline = self
                .deadline
                .map(|d| Deadline::after(d, TimeoutKind::ExportDeadline));
            let body_limit = self.client.call_budget().body_limit();
            match ListPager::new(
                self.request.function(),
                self.start,
                self.page_size,
                self.concurrency,
                body_limit,
                deadline,
            ) {
                Ok(pager) => self.phase = Phase::Run { pager, pool: None },
                Err(e) => {
                    self.phase = Phase::End;
                    return Some(Err(e));
                }
            }
        }
        self.advance()
    }
}
