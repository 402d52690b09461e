//! One list export as a sans-IO state machine: which page to fetch next
//! (the first alone, then up to a concurrency of pages in flight), every
//! page checked against what was asked, and the records released in
//! order, exactly once, until `total_count` or the first page that fails.
//!
//! A driver loops over [`ListPager::next_fetch`] (start those fetches),
//! [`ListPager::next_record`] (hand out a record, or wait for a page in
//! flight) and [`ListPager::on_page`] (a fetch has ended, in any order):
//!
//! ```
//! use miva_envelope::ListPage;
//! use miva_protocol::miva::list::{ListPager, Next};
//!
//! # fn main() -> Result<(), miva_protocol::Error> {
//! // 25 records in pages of 10, two pages in flight after the first.
//! let store = |offset: u64, count: u64| ListPage {
//!     total_count: 25,
//!     start_offset: Some(offset),
//!     data: (offset..(offset + count).min(25)).collect::<Vec<u64>>(),
//! };
//! let mut pager = ListPager::new("ProductList_Load_Query", 0, 10, 2, 1 << 20, None)?;
//! let mut records = Vec::new();
//! loop {
//!     while let Some(fetch) = pager.next_fetch() {
//!         // Send these concurrently; here each is answered at once.
//!         pager.on_page(fetch.offset, Ok(store(fetch.offset, fetch.count)));
//!     }
//!     match pager.next_record() {
//!         Next::Record(record) => records.push(record),
//!         Next::Pending => unreachable!("every page asked for was answered"),
//!         Next::Done => break,
//!         Next::Failed(error) => return Err(error),
//!     }
//! }
//! assert_eq!(records, (0..25).collect::<Vec<u64>>());
//! assert_eq!(pager.total_count(), Some(25));
//! # Ok(()) }
//! ```

use std::fmt;

use miva_envelope::ListPage;

use crate::ordered::Ordered;
use crate::page_check::{self, PageAnswer};
use crate::{BodyBudget, Deadline, Error};

/// The most pages a list export may keep in flight; more is an
/// [`Error::Config`] from [`ListPager::new`], before anything is sent.
pub const MAX_CONCURRENCY: usize = 64;

/// One page to fetch: `count` records from `offset`, its body read within
/// `budget` (its share of the body limit, `pages` being fetched at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PageFetch {
    /// The `Offset` to ask for.
    pub offset: u64,
    /// The `Count` to ask for.
    pub count: u64,
    /// How many pages share the body limit while this one is held.
    pub pages: usize,
    /// The body limit and decode budget of this page's response.
    pub budget: BodyBudget,
}

/// What [`ListPager::next_record`] says.
#[derive(Debug)]
pub enum Next<T> {
    /// The next record, in order.
    Record(T),
    /// The next record is in a page not yet answered: start what
    /// [`ListPager::next_fetch`] gives, wait for a fetch to end and pass it
    /// to [`ListPager::on_page`].
    Pending,
    /// Every record was released.
    Done,
    /// The export ends here: an [`Error::Page`] naming the page's offset
    /// ([`Error::root`] is an [`Error::Pagination`] for a failed check, or
    /// the fetch's error), or the error of a page before anything could be
    /// asked. Every record before it was released exactly once, none after
    /// it; from now on [`Next::Done`].
    Failed(Error),
}

/// The sans-IO state of one list export.
///
/// Nothing the store says about paging is taken on trust: every page is
/// checked against what was asked (its
/// `start_offset` must be the `Offset` asked for, it may hold no more
/// records than `Count`, fewer only at `total_count`, none past it, and
/// `total_count` must stay the first page's).
///
/// Memory: a page's records are moved in once and drained; at most the
/// concurrency of pages are in flight or waiting besides the one being
/// drained, which is what each page's [`BodyBudget::page`] share assumes
/// (with one page at a time, the next is asked for only once the one
/// being drained is empty).
pub struct ListPager<T> {
    function: String,
    start: u64,
    page_size: u64,
    concurrency: usize,
    body_limit: u64,
    deadline: Option<Deadline>,
    /// Whether the first page has been handed out to fetch.
    first_asked: bool,
    /// `total_count` of the first page.
    total: Option<u64>,
    /// Pages held at once after the first (0 until it has arrived).
    pages: usize,
    /// The offset of the next page to hand out to fetch.
    next_dispatch: u64,
    /// The pages in flight and held, released in order.
    order: Ordered<Vec<T>, T>,
}

impl<T> fmt::Debug for ListPager<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListPager")
            .field("function", &self.function)
            .field("page_size", &self.page_size)
            .field("concurrency", &self.concurrency)
            .field("total", &self.total)
            .field("next_offset", &self.order.next_offset())
            .field("in_flight", &self.order.in_flight())
            .field("held", &self.order.held())
            .finish_non_exhaustive()
    }
}

impl<T> ListPager<T> {
    /// An export of `function` from `start`, `page_size` records a request
    /// (0 is taken as 1), `concurrency` pages in flight after the first (0
    /// is taken as 1), each page's body within its share of `body_limit`,
    /// the whole export within `deadline` (which the driver passes to each
    /// fetch, see [`ListPager::deadline`]).
    ///
    /// # Errors
    /// [`Error::Config`] for a concurrency above [`MAX_CONCURRENCY`].
    pub fn new(
        function: &str,
        start: u64,
        page_size: u64,
        concurrency: usize,
        body_limit: u64,
        deadline: Option<Deadline>,
    ) -> Result<Self, Error> {
        if concurrency > MAX_CONCURRENCY {
            return Err(Error::Config(format!(
                "concurrency {concurrency} is above the maximum of {MAX_CONCURRENCY} pages in \
                 flight: pass at most {MAX_CONCURRENCY}"
            )));
        }
        Ok(Self {
            function: function.to_owned(),
            start,
            page_size: page_size.max(1),
            concurrency: concurrency.max(1),
            body_limit,
            deadline,
            first_asked: false,
            total: None,
            pages: 0,
            next_dispatch: start,
            order: Ordered::new(start),
        })
    }

    /// `total_count` once the first page has arrived (and passed its
    /// checks).
    pub fn total_count(&self) -> Option<u64> {
        self.total
    }

    /// The export's deadline, to bound each fetch by.
    pub fn deadline(&self) -> Option<&Deadline> {
        self.deadline.as_ref()
    }

    /// How many pages are fetched at once after the first: the
    /// concurrency, but never more than the pages left after it (0 until
    /// the first page has arrived, or when nothing is left).
    pub fn pages_at_once(&self) -> usize {
        self.pages
    }

    /// Pages handed out to fetch and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.order.in_flight()
    }

    /// The next page to fetch, if one may start now: the first page alone
    /// first; after it, while fewer than [`ListPager::pages_at_once`] are
    /// in flight or waiting, the next page within `total_count`. `None`
    /// once the export has ended.
    pub fn next_fetch(&mut self) -> Option<PageFetch> {
        if self.order.closed() {
            return None;
        }
        if !self.first_asked {
            self.first_asked = true;
            self.order.asked(self.start);
            return Some(PageFetch {
                offset: self.start,
                count: self.page_size,
                pages: self.concurrency,
                budget: BodyBudget::page(self.body_limit, self.concurrency),
            });
        }
        let total = self.total?;
        if self.next_dispatch >= total {
            return None;
        }
        let held = self.order.held();
        let room = if self.pages > 1 {
            held < self.pages
        } else {
            // One page at a time has the whole limit: none while another
            // is held.
            held == 0 && self.order.drained()
        };
        if !room {
            return None;
        }
        let offset = self.next_dispatch;
        self.next_dispatch = offset.saturating_add(self.page_size);
        self.order.asked(offset);
        Some(PageFetch {
            offset,
            count: self.page_size,
            pages: self.pages.max(1),
            budget: BodyBudget::page(self.body_limit, self.pages.max(1)),
        })
    }

    /// The answer to the fetch at `offset` (in any order): the page, or
    /// why it could not be fetched (wrapped here in an [`Error::Page`]
    /// naming the offset). The page is checked now and held until its
    /// records are due. An offset that was not handed out, or an answer
    /// after the export ended, is ignored.
    pub fn on_page(&mut self, offset: u64, result: Result<ListPage<T>, Error>) {
        if !self.order.answered(offset) {
            return;
        }
        let first = self.total.is_none();
        let checked = match result {
            Err(e) => Err(self.page_failed(offset, e)),
            Ok(page) => {
                let answer = PageAnswer {
                    offset,
                    count: self.page_size,
                    start_offset: page.start_offset,
                    len: page.data.len() as u64,
                    total: Some(page.total_count),
                };
                let first_total = self.total.map(Some);
                match page_check::check(&answer, first_total, &page_check::MIVA) {
                    Some(reason) => Err(self.pagination(offset, reason)),
                    None => {
                        if first {
                            self.first_arrived(page.total_count, page.data.len() as u64);
                        }
                        Ok(page.data)
                    }
                }
            }
        };
        self.order.hold(offset, checked);
        self.promote();
    }

    fn first_arrived(&mut self, total: u64, len: u64) {
        self.total = Some(total);
        self.next_dispatch = self.start.saturating_add(len);
        if len == 0 || self.next_dispatch >= total {
            return;
        }
        let left = (total - self.next_dispatch).div_ceil(self.page_size);
        let left = usize::try_from(left).unwrap_or(usize::MAX);
        self.pages = self.concurrency.min(left);
    }

    /// The next record in order, or what stands in its way.
    pub fn next_record(&mut self) -> Next<T> {
        loop {
            if let Some(record) = self.order.next_buffered() {
                return Next::Record(record);
            }
            if self.order.is_finished() {
                return Next::Done;
            }
            if self.order.closed() {
                return self.order.finish(None);
            }
            if self.promote() {
                continue;
            }
            if let Some(e) = self.order.take_failure() {
                return self.order.finish(Some(e));
            }
            let offset = self.order.next_offset();
            let will_be_asked = !self.first_asked
                || self
                    .total
                    .is_some_and(|t| self.next_dispatch == offset && offset < t);
            if self.order.is_in_flight(offset) || will_be_asked {
                return Next::Pending;
            }
            let error = self.pagination(offset, "no page was requested at this offset".into());
            return self.order.finish(Some(error));
        }
    }

    /// Once the page being drained is empty, the next page due becomes it
    /// if it has arrived (and passed its checks): it is the last when it is
    /// empty or reaches `total_count`. Whether it did.
    fn promote(&mut self) -> bool {
        let total = self.total.unwrap_or(0);
        self.order.promote(|offset, data| {
            let end = offset.saturating_add(data.len() as u64);
            let last = data.is_empty() || end >= total;
            Ok((data, last))
        })
    }

    /// The offset of the next page whose records are due.
    pub fn next_offset(&self) -> u64 {
        self.order.next_offset()
    }

    /// Ends the export because the driver cannot go on (it could not start
    /// fetching, say): `cause` wrapped in an [`Error::Page`] naming the next
    /// page due. Every record released so far stays released; nothing more
    /// is asked for, and [`ListPager::next_record`] says [`Next::Done`].
    pub fn abort(&mut self, cause: Error) -> Error {
        let error = self.page_failed(self.order.next_offset(), cause);
        self.order.abort();
        error
    }

    fn pagination(&self, offset: u64, reason: String) -> Error {
        self.page_failed(
            offset,
            Error::Pagination {
                function: self.function.clone(),
                offset,
                reason,
            },
        )
    }

    fn page_failed(&self, offset: u64, error: Error) -> Error {
        Error::Page {
            function: self.function.clone(),
            offset,
            source: Box::new(error),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;
    use crate::TimeoutKind;

    const F: &str = "ProductList_Load_Query";

    /// An honest page of ids `offset..` of `total`.
    fn page(offset: u64, count: u64, total: u64) -> ListPage<u64> {
        ListPage {
            total_count: total,
            start_offset: Some(offset),
            data: (offset..(offset + count).min(total)).collect(),
        }
    }

    fn pager(page_size: u64, concurrency: usize) -> ListPager<u64> {
        ListPager::new(F, 0, page_size, concurrency, 1_000_000, None).unwrap()
    }

    /// Drains every record that is ready.
    fn drain(pager: &mut ListPager<u64>, out: &mut Vec<u64>) -> Next<u64> {
        loop {
            match pager.next_record() {
                Next::Record(r) => out.push(r),
                other => return other,
            }
        }
    }

    fn fetches(pager: &mut ListPager<u64>) -> Vec<PageFetch> {
        std::iter::from_fn(|| pager.next_fetch()).collect()
    }

    /// The error is a Page at `offset` with a pagination reason holding
    /// `needle`.
    fn assert_failed(next: Next<u64>, offset: u64, needle: &str) {
        let Next::Failed(error) = next else {
            panic!("expected Failed, got {next:?}")
        };
        let Error::Page { offset: at, .. } = &error else {
            panic!("{error:?}")
        };
        assert_eq!(*at, offset, "{error}");
        let Error::Pagination { reason, .. } = error.root() else {
            panic!("{:?}", error.root())
        };
        assert!(reason.contains(needle), "{reason}");
    }

    #[test]
    fn the_first_page_goes_alone_then_pages_in_flight_are_released_in_order() {
        let mut p = pager(10, 4);
        let first = fetches(&mut p);
        assert_eq!(first.len(), 1, "the first page alone");
        assert_eq!(
            (first[0].offset, first[0].count, first[0].pages),
            (0, 10, 4)
        );
        assert_eq!(first[0].budget, BodyBudget::page(1_000_000, 4));
        assert!(matches!(p.next_record(), Next::Pending));
        p.on_page(0, Ok(page(0, 10, 100)));
        assert_eq!(p.total_count(), Some(100));
        let mut out = Vec::new();
        // Four pages at once, each with its share of the limit.
        let batch = fetches(&mut p);
        assert_eq!(
            batch.iter().map(|f| f.offset).collect::<Vec<_>>(),
            [10, 20, 30, 40]
        );
        assert!(
            batch
                .iter()
                .all(|f| f.budget == BodyBudget::page(1_000_000, 4))
        );
        assert!(matches!(drain(&mut p, &mut out), Next::Pending));
        assert_eq!(out, (0..10).collect::<Vec<_>>());
        // Out of order: 40, 30, 20 arrive first; nothing is released
        // before 10.
        for offset in [40, 30, 20] {
            p.on_page(offset, Ok(page(offset, 10, 100)));
        }
        assert!(p.next_fetch().is_none(), "four held or in flight");
        assert!(matches!(drain(&mut p, &mut out), Next::Pending));
        assert_eq!(out.len(), 10);
        p.on_page(10, Ok(page(10, 10, 100)));
        let mut pending = Vec::new();
        loop {
            for f in fetches(&mut p) {
                pending.push(f.offset);
            }
            match drain(&mut p, &mut out) {
                Next::Pending => {
                    let offset = pending.pop().unwrap();
                    p.on_page(offset, Ok(page(offset, 10, 100)));
                }
                Next::Done => break,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(out, (0..100).collect::<Vec<_>>());
        assert!(matches!(p.next_record(), Next::Done));
        assert!(p.next_fetch().is_none());
    }

    #[test]
    fn pages_at_once_never_exceed_the_pages_left() {
        // 30 records in pages of 10 at the maximum concurrency: 2 left.
        let mut p = pager(10, MAX_CONCURRENCY);
        fetches(&mut p);
        p.on_page(0, Ok(page(0, 10, 30)));
        assert_eq!(p.pages_at_once(), 2);
        let batch = fetches(&mut p);
        assert_eq!(batch.len(), 2);
        assert!(batch.iter().all(|f| f.pages == 2));
        // A single page: the whole export in one request, nothing more.
        let mut p = pager(10, 8);
        fetches(&mut p);
        p.on_page(0, Ok(page(0, 10, 7)));
        assert!(p.next_fetch().is_none());
        let mut out = Vec::new();
        assert!(matches!(drain(&mut p, &mut out), Next::Done));
        assert_eq!(out, (0..7).collect::<Vec<_>>());
        // An empty list.
        let mut p = pager(10, 8);
        fetches(&mut p);
        p.on_page(0, Ok(page(0, 10, 0)));
        assert!(matches!(p.next_record(), Next::Done));
    }

    #[test]
    fn one_page_at_a_time_waits_for_the_page_being_drained() {
        let mut p = pager(10, 1);
        fetches(&mut p);
        p.on_page(0, Ok(page(0, 10, 30)));
        assert!(matches!(p.next_record(), Next::Record(0)));
        assert!(p.next_fetch().is_none(), "the first page is still held");
        let mut out = vec![0];
        assert!(matches!(drain(&mut p, &mut out), Next::Pending));
        let next = fetches(&mut p);
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].budget, BodyBudget::page(1_000_000, 1));
    }

    #[test]
    fn concurrency_above_the_maximum_is_refused_before_anything_is_asked() {
        let error = ListPager::<u64>::new(F, 0, 10, MAX_CONCURRENCY + 1, 1, None).unwrap_err();
        let Error::Config(message) = &error else {
            panic!("{error:?}")
        };
        assert!(message.contains("65"), "{message}");
        assert!(message.contains("64"), "{message}");
        assert!(ListPager::<u64>::new(F, 0, 10, MAX_CONCURRENCY, 1, None).is_ok());
    }

    /// Runs an export of 30 in pages of 10 at `concurrency`, answering
    /// each fetch with `shape(offset, count)`.
    fn run(
        concurrency: usize,
        shape: impl Fn(u64, u64) -> Result<ListPage<u64>, Error>,
    ) -> (Vec<u64>, Next<u64>) {
        let mut p = pager(10, concurrency);
        let mut out = Vec::new();
        loop {
            let batch = fetches(&mut p);
            // Answer in reverse order, to be hard on the release order.
            for f in batch.iter().rev() {
                p.on_page(f.offset, shape(f.offset, f.count));
            }
            match drain(&mut p, &mut out) {
                Next::Pending => assert!(!batch.is_empty() || p.in_flight() > 0),
                end => {
                    assert!(matches!(p.next_record(), Next::Done), "done after the end");
                    return (out, end);
                }
            }
        }
    }

    #[test]
    fn each_check_fails_at_its_offset_with_its_reason() {
        type Shape = Box<dyn Fn(u64, u64) -> Result<ListPage<u64>, Error>>;
        let cases: Vec<(Shape, u64, &str)> = vec![
            (
                Box::new(|_, c| Ok(page(0, c, 30))),
                10,
                "start_offset 0 for the page requested at Offset 10",
            ),
            (
                Box::new(|o, c| {
                    let mut p = page(o, c, 30);
                    if o == 10 {
                        p.data.push(99);
                    }
                    Ok(p)
                }),
                10,
                "more than the Count 10",
            ),
            (
                Box::new(|o, c| Ok(page(o, c - u64::from(o == 10), 30))),
                10,
                "fewer than the Count 10",
            ),
            (
                Box::new(|o, c| {
                    let mut p = page(o, c, 30);
                    if o == 20 {
                        p.data.clear();
                    }
                    Ok(p)
                }),
                20,
                "came back empty",
            ),
            (
                Box::new(|o, c| {
                    Ok(ListPage {
                        total_count: 25,
                        start_offset: Some(o),
                        data: (o..o + c).collect(),
                    })
                }),
                20,
                "past total_count 25",
            ),
            (
                Box::new(|o, c| Ok(page(o, c, if o == 20 { 31 } else { 30 }))),
                20,
                "changed from 30 to 31",
            ),
            (
                Box::new(|o, c| Ok(page(o, c + 1, 30))),
                0,
                "more than the Count 10",
            ),
        ];
        for (shape, offset, needle) in cases {
            for concurrency in [1, 4] {
                let (out, end) = run(concurrency, &shape);
                assert_eq!(out, (0..offset).collect::<Vec<_>>(), "{needle}");
                assert_failed(end, offset, needle);
            }
        }
    }

    #[test]
    fn a_failed_page_stops_release_at_its_offset_even_when_later_pages_arrived() {
        let mut p = pager(10, 4);
        fetches(&mut p);
        p.on_page(0, Ok(page(0, 10, 100)));
        let batch = fetches(&mut p);
        assert_eq!(batch.len(), 4);
        p.on_page(40, Ok(page(40, 10, 100)));
        p.on_page(30, Ok(page(30, 10, 100)));
        p.on_page(
            20,
            Err(Error::Timeout {
                kind: TimeoutKind::ExportDeadline,
                limit: std::time::Duration::from_millis(5),
            }),
        );
        let mut out = Vec::new();
        assert!(matches!(drain(&mut p, &mut out), Next::Pending));
        p.on_page(10, Ok(page(10, 10, 100)));
        let end = drain(&mut p, &mut out);
        assert_eq!(
            out,
            (0..20).collect::<Vec<_>>(),
            "each record once, none after"
        );
        let Next::Failed(error) = end else {
            panic!("{end:?}")
        };
        assert!(matches!(error, Error::Page { offset: 20, .. }), "{error:?}");
        assert!(matches!(error.root(), Error::Timeout { .. }));
        assert!(matches!(p.next_record(), Next::Done));
        assert!(p.next_fetch().is_none(), "nothing more is asked for");
        assert_eq!(p.in_flight(), 0);
        // An answer arriving after the end is ignored.
        p.on_page(50, Ok(page(50, 10, 100)));
        assert!(matches!(p.next_record(), Next::Done));
    }

    #[test]
    fn a_failed_first_page_is_the_error_and_nothing_else_is_asked() {
        let mut p = pager(10, 4);
        fetches(&mut p);
        p.on_page(0, Err(Error::Config("refused".into())));
        assert!(p.next_fetch().is_none());
        let end = p.next_record();
        let Next::Failed(Error::Page {
            offset: 0, source, ..
        }) = end
        else {
            panic!("{end:?}")
        };
        assert!(matches!(*source, Error::Config(_)));
    }

    #[test]
    fn an_answer_for_an_offset_never_asked_for_is_ignored() {
        let mut p = pager(10, 2);
        fetches(&mut p);
        p.on_page(5, Ok(page(5, 10, 30)));
        assert!(matches!(p.next_record(), Next::Pending));
        p.on_page(0, Ok(page(0, 10, 30)));
        assert!(matches!(p.next_record(), Next::Record(0)));
    }

    #[test]
    fn an_export_from_an_offset_past_the_end_is_empty() {
        let mut p = ListPager::<u64>::new(F, 1000, 10, 4, 1, None).unwrap();
        let f = fetches(&mut p);
        assert_eq!(f[0].offset, 1000);
        p.on_page(
            1000,
            Ok(ListPage {
                total_count: 100,
                start_offset: Some(1000),
                data: vec![],
            }),
        );
        assert!(matches!(p.next_record(), Next::Done));
    }
}
