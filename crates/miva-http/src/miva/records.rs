//! [`Records`]: a list query's every record, page by page, checked.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use miva_envelope::{ListPage, ListRequest};
use miva_protocol::{Deadline, Error, TimeoutKind};

use super::{MAX_CONCURRENCY, MivaClient, page_failed};

/// Checks a page against what was asked (the checks both platforms share,
/// in `page_check`). `total` is the `total_count` of the first page (`None`
/// for the first page itself).
fn check_page<T>(
    page: &ListPage<T>,
    offset: u64,
    count: u64,
    total: Option<u64>,
) -> Option<String> {
    let answer = miva_protocol::page_check::PageAnswer {
        offset,
        count,
        start_offset: page.start_offset,
        len: page.data.len() as u64,
        total: Some(page.total_count),
    };
    miva_protocol::page_check::check(&answer, total.map(Some), &miva_protocol::page_check::MIVA)
}

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
/// Limits: [`Records::concurrency`] at most [`MAX_CONCURRENCY`], and never
/// more threads than pages left; each request is bounded by the client's
/// per-request timeout, the whole export by [`Records::deadline`] if set.
pub struct Records<R: ListRequest> {
    client: MivaClient,
    request: R,
    start: u64,
    page_size: u64,
    concurrency: usize,
    deadline: Option<Duration>,
    /// Threads started for concurrent fetching.
    workers: usize,
    state: Option<State<R::Record>>,
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

struct State<T> {
    buffer: std::vec::IntoIter<T>,
    /// Offset of the next page to hand out.
    next_offset: u64,
    /// `total_count` as first seen.
    total: Option<u64>,
    done: bool,
    /// Concurrent fetching: offsets to fetch go out, pages come back.
    pool: Option<Pool<T>>,
    /// An error to report before ending (a failed first page).
    pending_error: Option<Error>,
    /// The whole export's deadline, from the first `next()`.
    deadline: Option<Deadline>,
}

struct Pool<T> {
    work: Option<mpsc::Sender<u64>>,
    results: mpsc::Receiver<(u64, PageResult<T>)>,
    waiting: BTreeMap<u64, PageResult<T>>,
    /// Offset of the next page to dispatch.
    dispatched_to: u64,
    in_flight: usize,
}

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
            state: None,
        }
    }

    /// Records per request (default 100; 0 is taken as 1).
    pub fn page_size(mut self, size: u64) -> Self {
        self.page_size = size.max(1);
        self
    }

    /// Pages fetched at once, one thread each (default 1; 0 is taken as
    /// 1; at most [`MAX_CONCURRENCY`], and more is an [`Error::Config`] on
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
        self.state.as_ref().and_then(|s| s.total)
    }

    /// How many threads fetch pages (0 until the first page has arrived,
    /// and when fetching sequentially): at most the concurrency, and at
    /// most the pages left after the first.
    pub fn workers(&self) -> usize {
        self.workers
    }

    fn fail(&self, offset: u64, reason: String) -> Error {
        page_failed(
            self.request.function(),
            offset,
            Error::Pagination {
                function: self.request.function().to_owned(),
                offset,
                reason,
            },
        )
    }

    fn first_page(&mut self) -> State<R::Record> {
        let mut state = State {
            buffer: Vec::new().into_iter(),
            next_offset: self.start,
            total: None,
            done: true,
            pool: None,
            pending_error: None,
            deadline: self
                .deadline
                .map(|d| Deadline::after(d, TimeoutKind::ExportDeadline)),
        };
        if self.concurrency > MAX_CONCURRENCY {
            state.pending_error = Some(Error::Config(format!(
                "concurrency {} is above the maximum of {MAX_CONCURRENCY} pages in flight \
                 (one thread each): pass at most {MAX_CONCURRENCY}",
                self.concurrency
            )));
            return state;
        }
        let page = match self.client.fetch_page(
            &self.request,
            self.start,
            self.page_size,
            state.deadline.as_ref(),
            self.concurrency,
        ) {
            Ok(page) => page,
            Err(e) => {
                state.pending_error = Some(page_failed(self.request.function(), self.start, e));
                return state;
            }
        };
        if let Some(reason) = check_page(&page, self.start, self.page_size, None) {
            state.pending_error = Some(self.fail(self.start, reason));
            return state;
        }
        state.total = Some(page.total_count);
        state.next_offset = self.start + page.data.len() as u64;
        state.done = page.data.is_empty() || state.next_offset >= page.total_count;
        state.buffer = page.data.into_iter();
        if !state.done && self.concurrency > 1 {
            let left = page.total_count - state.next_offset;
            let pages_left = usize::try_from(left.div_ceil(self.page_size)).unwrap_or(usize::MAX);
            match self.start_pool(
                state.next_offset,
                self.concurrency.min(pages_left),
                state.deadline.clone(),
            ) {
                Ok(pool) => state.pool = Some(pool),
                Err(e) => {
                    state.done = true;
                    state.pending_error =
                        Some(page_failed(self.request.function(), state.next_offset, e));
                }
            }
        }
        state
    }

    /// Starts `threads` page fetchers (fewer if the system refuses more,
    /// but at least one).
    fn start_pool(
        &mut self,
        from: u64,
        threads: usize,
        deadline: Option<Deadline>,
    ) -> Result<Pool<R::Record>, Error> {
        let (work_tx, work_rx) = mpsc::channel::<u64>();
        let (result_tx, result_rx) = mpsc::channel();
        let work_rx = Arc::new(std::sync::Mutex::new(work_rx));
        for n in 0..threads {
            let work_rx = Arc::clone(&work_rx);
            let result_tx = result_tx.clone();
            let client = self.client.clone();
            let request = self.request.clone();
            let count = self.page_size;
            let deadline = deadline.clone();
            // The pages held at once: never more than are left to fetch,
            // so a small export keeps a large share of the body limit.
            let pages = threads;
            let spawned = std::thread::Builder::new()
                .name(format!("miva-page-{n}"))
                .spawn(move || {
                    loop {
                        let next = match work_rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        let Ok(offset) = next else { return };
                        let page = client
                            .fetch_page(&request, offset, count, deadline.as_ref(), pages)
                            .map_err(|e| page_failed(request.function(), offset, e));
                        if result_tx.send((offset, page)).is_err() {
                            return;
                        }
                    }
                });
            match spawned {
                Ok(_) => self.workers += 1,
                Err(e) if self.workers == 0 => {
                    return Err(Error::Config(format!(
                        "could not start a thread to fetch pages ({e}): lower the concurrency"
                    )));
                }
                Err(e) => {
                    tracing::debug!(
                        started = self.workers,
                        wanted = threads,
                        error = %e,
                        "fewer page threads than asked for"
                    );
                    break;
                }
            }
        }
        Ok(Pool {
            work: Some(work_tx),
            results: result_rx,
            waiting: BTreeMap::new(),
            dispatched_to: from,
            in_flight: 0,
        })
    }

    /// The page at `state.next_offset`, sequentially or from the pool.
    fn next_page(&self, state: &mut State<R::Record>) -> PageResult<R::Record> {
        let total = state.total.unwrap_or(0);
        let Some(pool) = state.pool.as_mut() else {
            return self
                .client
                .fetch_page(
                    &self.request,
                    state.next_offset,
                    self.page_size,
                    state.deadline.as_ref(),
                    self.concurrency,
                )
                .map_err(|e| page_failed(self.request.function(), state.next_offset, e));
        };
        // Keep `concurrency` pages in flight (or waiting), within the total.
        while pool.in_flight + pool.waiting.len() < self.concurrency && pool.dispatched_to < total {
            let Some(work) = &pool.work else { break };
            if work.send(pool.dispatched_to).is_err() {
                break;
            }
            pool.in_flight += 1;
            pool.dispatched_to = pool.dispatched_to.saturating_add(self.page_size);
        }
        loop {
            if let Some(page) = pool.waiting.remove(&state.next_offset) {
                return page;
            }
            if pool.in_flight == 0 {
                return Err(self.fail(
                    state.next_offset,
                    "no page was requested at this offset".into(),
                ));
            }
            match pool.results.recv() {
                Ok((offset, page)) => {
                    pool.in_flight -= 1;
                    pool.waiting.insert(offset, page);
                }
                Err(_) => {
                    return Err(self.fail(
                        state.next_offset,
                        "the page fetching threads stopped".into(),
                    ));
                }
            }
        }
    }
}

impl<R> Iterator for Records<R>
where
    R: ListRequest + Send + 'static,
    R::Record: Send + 'static,
{
    type Item = Result<R::Record, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.state.is_none() {
            let state = self.first_page();
            self.state = Some(state);
        }
        let mut state = self.state.take()?;
        let item = self.advance(&mut state);
        self.state = Some(state);
        item
    }
}

impl<R> Records<R>
where
    R: ListRequest + Send + 'static,
    R::Record: Send + 'static,
{
    fn advance(&self, state: &mut State<R::Record>) -> Option<Result<R::Record, Error>> {
        loop {
            if let Some(record) = state.buffer.next() {
                return Some(Ok(record));
            }
            if state.done {
                return state.pending_error.take().map(Err);
            }
            let offset = state.next_offset;
            let checked = self.next_page(state).and_then(|page| {
                match check_page(&page, offset, self.page_size, state.total) {
                    None => Ok(page),
                    Some(reason) => Err(self.fail(offset, reason)),
                }
            });
            let page = match checked {
                Ok(page) => page,
                Err(e) => {
                    state.done = true;
                    state.pool = None;
                    return Some(Err(e));
                }
            };
            state.next_offset = offset + page.data.len() as u64;
            if page.data.is_empty() || state.next_offset >= page.total_count {
                state.done = true;
                state.pool = None;
            }
            state.buffer = page.data.into_iter();
        }
    }
}
