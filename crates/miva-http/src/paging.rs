//! Both platforms' paging machines (Miva's [`ListPager`], Miravia's
//! [`Pager`]) behind one trait, and the one blocking driver of them:
//! the first page inline, then, once more than one page may be in flight,
//! a few threads (each with its own clone of the fetch) while the caller's
//! thread hands out the records in order. The async driver is
//! `tokio::pages`.

use miva_envelope::ListPage;
use miva_protocol::Error;
use miva_protocol::miravia::Pager;
use miva_protocol::miva::list::{ListPager, Next, PageFetch};
use serde_json::Value;

use crate::pool::{Pool, threads_stopped};

/// What a driver needs of a paging machine.
pub(crate) trait Machine {
    /// One page to fetch.
    type Fetch;
    /// One page's answer.
    type Page: Send + 'static;
    /// One record.
    type Record;
    fn next_fetch(&mut self) -> Option<Self::Fetch>;
    fn offset(fetch: &Self::Fetch) -> u64;
    fn on_page(&mut self, offset: u64, page: Result<Self::Page, Error>);
    fn next_record(&mut self) -> Next<Self::Record>;
    fn abort(&mut self, cause: Error) -> Error;
    /// Pages fetched at once now (0 until the first page has arrived).
    fn pages_at_once(&self) -> usize;
}

impl<T: Send + 'static> Machine for ListPager<T> {
    type Fetch = PageFetch;
    type Page = ListPage<T>;
    type Record = T;
    fn next_fetch(&mut self) -> Option<PageFetch> {
        ListPager::next_fetch(self)
    }
    fn offset(fetch: &PageFetch) -> u64 {
        fetch.offset
    }
    fn on_page(&mut self, offset: u64, page: Result<ListPage<T>, Error>) {
        ListPager::on_page(self, offset, page);
    }
    fn next_record(&mut self) -> Next<T> {
        ListPager::next_record(self)
    }
    fn abort(&mut self, cause: Error) -> Error {
        ListPager::abort(self, cause)
    }
    fn pages_at_once(&self) -> usize {
        ListPager::pages_at_once(self)
    }
}

impl Machine for Pager {
    type Fetch = miva_protocol::miravia::PageRequest;
    type Page = Value;
    type Record = Value;
    fn next_fetch(&mut self) -> Option<Self::Fetch> {
        Pager::next_fetch(self)
    }
    fn offset(fetch: &Self::Fetch) -> u64 {
        fetch.offset
    }
    fn on_page(&mut self, offset: u64, page: Result<Value, Error>) {
        Pager::on_page(self, offset, page);
    }
    fn next_record(&mut self) -> Next<Value> {
        Pager::next_record(self)
    }
    fn abort(&mut self, cause: Error) -> Error {
        Pager::abort(self, cause)
    }
    fn pages_at_once(&self) -> usize {
        Pager::pages_at_once(self)
    }
}

/// One page's request for the blocking driver: run inline or on a page
/// thread (each thread has its own clone).
pub(crate) trait Fetcher<M: Machine>: Clone + Send + 'static {
    fn fetch(&self, job: M::Fetch) -> Result<M::Page, Error>;
}

/// Fetches go out to the threads, `(offset, page)` comes back.
type ThreadPool<M> = Pool<<M as Machine>::Fetch, (u64, Result<<M as Machine>::Page, Error>)>;

/// A paging machine driven on the calling thread, with page threads once
/// they pay.
pub(crate) struct PageThreads<M: Machine, F> {
    machine: M,
    /// One page's request, run inline or on a thread (each has a clone).
    fetch: F,
    /// The threads' names: `{name}-{n}`.
    name: &'static str,
    pool: Option<ThreadPool<M>>,
    ended: bool,
}

impl<M, F> PageThreads<M, F>
where
    M: Machine,
    M::Fetch: Send + 'static,
    F: Fetcher<M>,
{
    pub(crate) fn new(machine: M, name: &'static str, fetch: F) -> Self {
        Self {
            machine,
            fetch,
            name,
            pool: None,
            ended: false,
        }
    }

    pub(crate) fn machine(&self) -> &M {
        &self.machine
    }

    pub(crate) fn machine_mut(&mut self) -> &mut M {
        &mut self.machine
    }

    /// Threads fetching pages (0 until more than one page may be in
    /// flight, and once the export has ended).
    pub(crate) fn threads(&self) -> usize {
        self.pool.as_ref().map_or(0, Pool::threads)
    }

    fn end(&mut self, item: Option<Result<M::Record, Error>>) -> Option<Result<M::Record, Error>> {
        self.ended = true;
        self.pool = None;
        item
    }

    /// The next record in order: runs the machine's fetches (inline for
    /// the first page and one page at a time, on the threads otherwise)
    /// until it has a record or an end.
    pub(crate) fn next(&mut self) -> Option<Result<M::Record, Error>> {
        if self.ended {
            return None;
        }
        loop {
            if self.pool.is_none() && self.machine.pages_at_once() > 1 {
                let fetch = self.fetch.clone();
                let started = Pool::start(self.name, self.machine.pages_at_once(), move |job| {
                    let offset = M::offset(&job);
                    (offset, fetch.fetch(job))
                });
                match started {
                    Ok(pool) => self.pool = Some(pool),
                    Err(e) => {
                        let error = self.machine.abort(e);
                        return self.end(Some(Err(error)));
                    }
                }
            }
            if let Some(job) = self.machine.next_fetch() {
                let offset = M::offset(&job);
                match &self.pool {
                    Some(pool) => {
                        if pool.send(job).is_err() {
                            self.machine.on_page(offset, Err(threads_stopped()));
                        }
                    }
                    None => {
                        let page = self.fetch.fetch(job);
                        self.machine.on_page(offset, page);
                    }
                }
                continue;
            }
            match self.machine.next_record() {
                Next::Record(record) => return Some(Ok(record)),
                Next::Done => return self.end(None),
                Next::Failed(error) => return self.end(Some(Err(error))),
                Next::Pending => match self.pool.as_ref().and_then(Pool::recv) {
                    Some((offset, page)) => self.machine.on_page(offset, page),
                    None => {
                        let error = self.machine.abort(threads_stopped());
                        return self.end(Some(Err(error)));
                    }
                },
            }
        }
    }
}
