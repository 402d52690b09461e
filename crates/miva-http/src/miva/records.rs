//! [`Records`]: a list query's every record, page by page, checked: a
//! thin blocking driver (threads) over the core's
//! [`ListPager`](miva_protocol::miva::list::ListPager).

use std::fmt;
use std::time::Duration;

use miva_envelope::{ListPage, ListRequest};
use miva_protocol::miva::list::{ListPager, PageFetch};
use miva_protocol::{Deadline, Error, TimeoutKind};

use super::MivaClient;
use crate::paging::{Fetcher, PageThreads};

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
pub struct Records<R: ListRequest>
where
    R::Record: Send + 'static,
{
    client: MivaClient,
    request: R,
    settings: ExportSettings,
    /// The most threads that fetched pages at once.
    workers: usize,
    /// The machine and its threads, from the first `next()`.
    run: Option<Run<R>>,
    /// Ended before the machine could start (a refused setting).
    failed: bool,
}

/// An export's settings, the same for both drivers' `Records`: where it
/// starts, records per page, pages in flight and its deadline.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExportSettings {
    pub(crate) start: u64,
    pub(crate) page_size: u64,
    pub(crate) concurrency: usize,
    pub(crate) deadline: Option<Duration>,
}

impl ExportSettings {
    /// From the request's own `Offset`, 100 a page, one at a time.
    pub(crate) fn new<R: ListRequest>(request: &R) -> Self {
        Self {
            start: request.query().get_offset().unwrap_or(0),
            page_size: 100,
            concurrency: 1,
            deadline: None,
        }
    }

    pub(crate) fn set_page_size(&mut self, size: u64) {
        self.page_size = size.max(1);
    }

    pub(crate) fn set_concurrency(&mut self, pages: usize) {
        self.concurrency = pages.max(1);
    }

    /// The machine, its deadline counting from now.
    pub(crate) fn pager<T>(&self, function: &str, body_limit: u64) -> Result<ListPager<T>, Error> {
        let deadline = self
            .deadline
            .map(|d| Deadline::after(d, TimeoutKind::ExportDeadline));
        ListPager::new(
            function,
            self.start,
            self.page_size,
            self.concurrency,
            body_limit,
            deadline,
        )
    }
}

/// The blocking driver of one export.
type Run<R> = PageThreads<ListPager<<R as ListRequest>::Record>, PageCall<R>>;

/// One page's request: a client and request clone per thread.
struct PageCall<R> {
    client: MivaClient,
    request: R,
    deadline: Option<Deadline>,
}

impl<R: Clone> Clone for PageCall<R> {
    fn clone(&self) -> Self {
        Self {
            client: self.client.clone(),
            request: self.request.clone(),
            deadline: self.deadline.clone(),
        }
    }
}

impl<R> Fetcher<ListPager<R::Record>> for PageCall<R>
where
    R: ListRequest + Send + 'static,
    R::Record: Send + 'static,
{
    fn fetch(&self, f: PageFetch) -> Result<ListPage<R::Record>, Error> {
        self.client.fetch_page(
            &self.request,
            f.offset,
            f.count,
            self.deadline.as_ref(),
            f.pages,
        )
    }
}

impl<R: ListRequest> fmt::Debug for Records<R>
where
    R::Record: Send + 'static,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Records")
            .field("function", &self.request.function())
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl<R> Records<R>
where
    R: ListRequest + Send + 'static,
    R::Record: Send + 'static,
{
    pub(super) fn new(client: MivaClient, request: R) -> Self {
        Self {
            client,
            settings: ExportSettings::new(&request),
            request,
            workers: 0,
            run: None,
            failed: false,
        }
    }

    /// Records per request (default 100; 0 is taken as 1).
    pub fn page_size(mut self, size: u64) -> Self {
        self.settings.set_page_size(size);
        self
    }

    /// Pages fetched at once, one thread each (default 1; 0 is taken as
    /// 1; at most [`MAX_CONCURRENCY`](super::MAX_CONCURRENCY), and more is an [`Error::Config`] on
    /// the first `next()`, before anything is sent). Records still come out
    /// in order; at most this many pages are held in memory besides the one
    /// being handed out (each gets 1/(pages + 1) of the body limit), and no
    /// more threads are started than pages remain after the first.
    pub fn concurrency(mut self, pages: usize) -> Self {
        self.settings.set_concurrency(pages);
        self
    }

    /// An overall limit on the whole export, from the first `next()`: a
    /// request in flight when it passes is cut off, and the iteration ends
    /// with [`Error::Page`] for the next page due, whose [`Error::root`] is
    /// an [`Error::Timeout`] naming the export deadline. Without it each
    /// page is bounded by the client's per-request timeout only.
    pub fn deadline(mut self, limit: Duration) -> Self {
        self.settings.deadline = Some(limit);
        self
    }

    /// `total_count` once the first page has arrived.
    pub fn total_count(&self) -> Option<u64> {
        self.run
            .as_ref()
            .and_then(|run| run.machine().total_count())
    }

    /// How many threads fetch pages (0 until the first page has arrived,
    /// and when fetching sequentially): at most the concurrency, and at
    /// most the pages left after the first.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// The machine and its driver, made on the first `next()` (the
    /// deadline counts from there).
    fn start(&self) -> Result<Run<R>, Error> {
        let pager: ListPager<R::Record> = self.settings.pager(
            self.request.function(),
            self.client.call_budget().body_limit(),
        )?;
        let fetch = PageCall {
            client: self.client.clone(),
            request: self.request.clone(),
            deadline: pager.deadline().cloned(),
        };
        Ok(PageThreads::new(pager, "miva-page", fetch))
    }
}

impl<R> Iterator for Records<R>
where
    R: ListRequest + Send + 'static,
    R::Record: Send + 'static,
{
    type Item = Result<R::Record, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        if self.run.is_none() {
            match self.start() {
                Ok(run) => self.run = Some(run),
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
        let run = self.run.as_mut()?;
        let item = run.next();
        self.workers = self.workers.max(run.threads());
        item
    }
}
