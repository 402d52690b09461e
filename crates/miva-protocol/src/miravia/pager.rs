//! The Miravia pager: offset/limit paging as a sans-IO state machine, with
//! every check a page must pass before its records are handed out: the
//! first page alone, then (once it gave a total) up to a concurrency of
//! pages in flight, answers taken in any order and records released in
//! order, exactly once.
//!
//! A driver loops over [`Pager::next_fetch`] (start those requests),
//! [`Pager::next_record`] (hand out a record, or wait for a page in
//! flight) and [`Pager::on_page`] (a request has ended, in any order):
//!
//! ```
//! use miva_protocol::miravia::{Next, PageSpec, Pager};
//! use serde_json::json;
//!
//! # fn main() -> Result<(), miva_protocol::Error> {
//! // 23 products in pages of 5, three pages in flight after the first.
//! let gateway = |offset: u64| {
//!     let products: Vec<_> = (offset..(offset + 5).min(23)).map(|id| json!({"id": id})).collect();
//!     json!({"code": "0", "data": {"products": products, "total_products": 23}})
//! };
//! let mut pager = Pager::new("/products/get", &[], PageSpec::products(), 5);
//! pager.set_concurrency(3);
//! let mut ids = Vec::new();
//! loop {
//!     while let Some(request) = pager.next_fetch() {
//!         // Send these concurrently; here each is answered at once.
//!         pager.on_page(request.offset, Ok(gateway(request.offset)));
//!     }
//!     match pager.next_record() {
//!         Next::Record(record) => ids.push(record["id"].as_u64().unwrap_or_default()),
//!         Next::Pending => unreachable!("every page asked for was answered"),
//!         Next::Done => break,
//!         Next::Failed(error) => return Err(error),
//!     }
//! }
//! assert_eq!(ids, (0..23).collect::<Vec<u64>>());
//! # Ok(()) }
//! ```

use std::collections::HashSet;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::time::Duration;

use serde_json::Value;

use super::PageSpec;
pub use crate::miva::list::Next;
use crate::ordered::Ordered;
use crate::page_check::{MIRAVIA, PageAnswer, check};
use crate::{Deadline, Error, TimeoutKind};

/// The most pages a Miravia export may keep in flight (the same as Miva's
/// [`crate::miva::list::MAX_CONCURRENCY`]); more is an [`Error::Config`]
/// from the first [`Pager::next_record`], before anything is sent.
pub const MAX_CONCURRENCY: usize = crate::miva::list::MAX_CONCURRENCY;

/// Every record of an offset/limit endpoint, page by page, in order: which
/// pages to ask for ([`Pager::next_fetch`]), what each answer is
/// ([`Pager::on_page`], in any order) and the records in order
/// ([`Pager::next_record`]).
///
/// The first page is asked for alone. Once it has arrived and the endpoint
/// gave a total, up to [`Pager::set_concurrency`] pages are in flight at
/// once, within the total (never past it, never more than the pages left);
/// without a total the end is unknown, so it stays one page at a time.
///
/// It ends when the total is reached, or, when the endpoint gives no
/// total, at the first page with fewer records than the page size. Every
/// page is checked first, and one that fails ends the export with
/// [`Error::Page`] naming its offset (its [`Error::root`] is an
/// [`Error::Pagination`] saying why; a failed call is the call's error):
/// the total is read from the first page and must not change or vanish; a
/// page may not hold more records than the limit, nor fewer before the
/// total; a page with the same records as one before it (a gateway that
/// ignores `offset`) is never delivered; and more than
/// [`PageSpec::max_pages`] pages is an error, not an endless loop. Every
/// record before the failed page is delivered exactly once, none after it.
///
/// Memory: a page's records are moved in once and drained; at most the
/// concurrency of pages are in flight or waiting besides the one being
/// drained (one page at a time: the next is asked for only once the one
/// being drained is empty).
pub struct Pager {
    api_path: String,
    params: Vec<(String, String)>,
    spec: PageSpec,
    page_size: u64,
    concurrency: usize,
    /// The whole export's limit.
    limit: Option<Duration>,
    /// The whole export's deadline, from the first page request.
    deadline: Option<Deadline>,
    /// Whether the first page has been handed out to fetch.
    started: bool,
    /// Pages handed out so far.
    asked: usize,
    /// The first page's total, once it has arrived (`Some(None)`: it gave
    /// none).
    total: Option<Option<u64>>,
    /// Pages held at once after the first (0 until it has arrived with a
    /// total, or when nothing is left after it).
    pages: usize,
    /// The offset of the next page to hand out (with a total).
    next_dispatch: u64,
    /// The pages in flight and held, released in order.
    order: Ordered<Checked, Value>,
    /// A hash of each non-empty page's records released so far.
    seen: HashSet<u64>,
}

/// A page that passed its checks, waiting for its turn.
struct Checked {
    items: Vec<Value>,
    /// [`page_hash`] of the items (`None` for an empty page).
    hash: Option<u64>,
}

impl fmt::Debug for Pager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pager")
            .field("api_path", &self.api_path)
            .field("page_size", &self.page_size)
            .field("concurrency", &self.concurrency)
            .field("offset", &self.order.next_offset())
            .field("pages", &self.asked)
            .field("in_flight", &self.order.in_flight())
            .field("held", &self.order.held())
            .field("deadline", &self.limit)
            .finish_non_exhaustive()
    }
}

/// The request for one page: a GET of the pager's API path with these
/// parameters (`offset` and `limit` set), within this deadline.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PageRequest {
    /// The page's offset: pass it back with the answer to
    /// [`Pager::on_page`].
    pub offset: u64,
    /// The parameters, the caller's with `offset` and `limit` replaced.
    pub params: Vec<(String, String)>,
    /// The export's deadline, when there is one.
    pub deadline: Option<Deadline>,
}

impl PageRequest {
    /// The parameters as borrowed pairs, for [`Session::call`](super::Session::call).
    pub fn param_pairs(&self) -> Vec<(&str, &str)> {
        self.params
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }
}

impl Pager {
    /// Pages of `page_size` records (0 is taken as 1) of `api_path` with
    /// `params` (any `offset` or `limit` among them is replaced), one page
    /// in flight at a time until [`Pager::set_concurrency`] says more.
    pub fn new(api_path: &str, params: &[(&str, &str)], spec: PageSpec, page_size: u32) -> Self {
        Self {
            api_path: api_path.to_owned(),
            params: params
                .iter()
                .filter(|(n, _)| *n != "offset" && *n != "limit")
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            spec,
            page_size: u64::from(page_size.max(1)),
            concurrency: 1,
            limit: None,
            deadline: None,
            started: false,
            asked: 0,
            total: None,
            pages: 0,
            next_dispatch: 0,
            order: Ordered::new(0),
            seen: HashSet::new(),
        }
    }

    /// Pages in flight at once after the first (default 1; 0 is taken as
    /// 1), when the endpoint gives a total. Above [`MAX_CONCURRENCY`] the
    /// export fails at once: [`Pager::next_fetch`] gives nothing and
    /// [`Pager::next_record`] an [`Error::Config`], before anything is sent.
    /// Set it before the first [`Pager::next_fetch`].
    pub fn set_concurrency(&mut self, pages: usize) {
        self.concurrency = pages.max(1);
    }

    /// The concurrency set (at least 1).
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// An overall limit on the whole export, from the first
    /// [`Pager::next_fetch`]: every page request gets at most the time left,
    /// and once it has passed the export ends with [`Error::Page`] whose
    /// root is an [`Error::Timeout`] naming the export deadline.
    pub fn set_deadline(&mut self, limit: Duration) {
        self.limit = Some(limit);
    }

    /// The export deadline's limit, if set.
    pub fn deadline_limit(&self) -> Option<Duration> {
        self.limit
    }

    /// The API path.
    pub fn api_path(&self) -> &str {
        &self.api_path
    }

    /// The offset of the next page whose records are due (or of the page
    /// that failed).
    pub fn offset(&self) -> u64 {
        self.order.next_offset()
    }

    /// The first page's total once it has arrived and passed its checks
    /// (`None` before, and when the endpoint gives none).
    pub fn total(&self) -> Option<u64> {
        self.total.flatten()
    }

    /// How many pages are in flight at once after the first: the
    /// concurrency, but never more than the pages left after it (0 until the
    /// first page has arrived, when it gave no total, or when nothing is
    /// left).
    pub fn pages_at_once(&self) -> usize {
        self.pages
    }

    /// Page requests handed out and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.order.in_flight()
    }

    /// Whether the export has ended (every record handed out, or an error).
    pub fn is_done(&self) -> bool {
        self.order.is_finished()
    }

    fn concurrency_refused(&self) -> Option<Error> {
        (self.concurrency > MAX_CONCURRENCY).then(|| {
            Error::Config(format!(
                "concurrency {} is above the maximum of {MAX_CONCURRENCY} pages in flight: \
                 pass at most {MAX_CONCURRENCY}",
                self.concurrency
            ))
        })
    }

    /// The next page to fetch, if one may start now: the first page alone
    /// first; after it, with a total, while fewer than
    /// [`Pager::pages_at_once`] are in flight or waiting, the next page
    /// within the total; without a total, the next page once the one
    /// before it has been drained. `None` once the export has ended, and
    /// never more than [`PageSpec::max_pages`] in all (the page after those
    /// is [`Pager::next_record`]'s error).
    pub fn next_fetch(&mut self) -> Option<PageRequest> {
        if self.order.closed() || self.concurrency > MAX_CONCURRENCY {
            return None;
        }
        let offset = if self.started {
            let total = self.total?;
            let held = self.order.held();
            let drained = held == 0 && self.order.drained();
            match total {
                // The end is unknown: the next page only once the one
                // before it has been drained (and was full).
                None if drained => self.order.next_offset(),
                None => return None,
                Some(total) => {
                    if self.next_dispatch >= total {
                        return None;
                    }
                    // One page at a time has the whole page to itself.
                    let room = if self.pages > 1 {
                        held < self.pages
                    } else {
                        drained
                    };
                    if !room {
                        return None;
                    }
                    self.next_dispatch
                }
            }
        } else {
            self.started = true;
            self.deadline = self
                .limit
                .map(|d| Deadline::after(d, TimeoutKind::ExportDeadline));
            0
        };
        // The field is public: 0 is taken as 1, as `PageSpec::max_pages` says.
        if self.asked >= self.spec.max_pages.max(1) {
            return None;
        }
        self.asked += 1;
        if self.total.flatten().is_some() {
            self.next_dispatch = offset.saturating_add(self.page_size);
        }
        self.order.asked(offset);
        let mut params = self.params.clone();
        params.push(("offset".to_owned(), offset.to_string()));
        params.push(("limit".to_owned(), self.page_size.to_string()));
        Some(PageRequest {
            offset,
            params,
            deadline: self.deadline.clone(),
        })
    }

    /// The answer to the request at `offset` (in any order): the whole
    /// response, or why the call failed (wrapped here in an
    /// [`Error::Page`] naming the offset). The page is checked now and held
    /// until its records are due. An offset that was not handed out, or an
    /// answer after the export ended, is ignored.
    pub fn on_page(&mut self, offset: u64, answer: Result<Value, Error>) {
        if !self.order.answered(offset) {
            return;
        }
        let first = self.total.is_none();
        let checked = self.check_page(offset, answer);
        if first && let Ok((_, total)) = &checked {
            self.first_arrived(offset, checked_len(&checked), *total);
        }
        self.order.hold(offset, checked.map(|(checked, _)| checked));
        self.promote();
    }

    /// The page's records once it passed every check that needs only it
    /// (and the first page's total), with its total.
    fn check_page(
        &self,
        offset: u64,
        answer: Result<Value, Error>,
    ) -> Result<(Checked, Option<u64>), Error> {
        let mut page = answer.map_err(|e| self.page_failed(offset, e))?;
        let total = self
            .spec
            .total
            .as_deref()
            .and_then(|p| page.pointer(p))
            .and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            });
        let items = match page.pointer_mut(&self.spec.items).map(Value::take) {
            // Taken, not copied: the page's records are held once.
            Some(Value::Array(items)) => items,
            None | Some(Value::Null) => Vec::new(),
            Some(_) => {
                let cause = Error::Undecodable {
                    status: 200,
                    reason: format!("{} is not an array", self.spec.items),
                    excerpt: String::new(),
                };
                return Err(self.page_failed(offset, cause));
            }
        };
        let answer = PageAnswer {
            offset,
            count: self.page_size,
            start_offset: None,
            len: items.len() as u64,
            total,
        };
        if let Some(reason) = check(&answer, self.total, &MIRAVIA) {
            return Err(self.pagination(offset, reason));
        }
        let hash = (!items.is_empty()).then(|| page_hash(&items));
        Ok((Checked { items, hash }, total))
    }

    fn first_arrived(&mut self, offset: u64, len: u64, total: Option<u64>) {
        self.total = Some(total);
        let Some(total) = total else { return };
        self.next_dispatch = offset.saturating_add(len);
        if len < self.page_size || self.next_dispatch >= total {
            return;
        }
        let left = (total - self.next_dispatch).div_ceil(self.page_size);
        self.pages = self
            .concurrency
            .min(usize::try_from(left).unwrap_or(usize::MAX));
    }

    /// The next record in order, or what stands in its way.
    pub fn next_record(&mut self) -> Next<Value> {
        loop {
            if let Some(record) = self.order.next_buffered() {
                return Next::Record(record);
            }
            if self.order.is_finished() {
                return Next::Done;
            }
            if let Some(refused) = self.concurrency_refused() {
                return self.order.finish(Some(refused));
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
            if !self.started || self.order.is_in_flight(offset) {
                return Next::Pending;
            }
            // Not asked for yet: it will be, unless the cap is reached.
            let max = self.spec.max_pages.max(1);
            if self.asked >= max {
                let error = self.pagination(
                    offset,
                    format!(
                        "{max} pages fetched and the gateway still has more (every page full, \
                         or the total not reached): stopped rather than page forever; raise \
                         PageSpec::max_pages if there really are more"
                    ),
                );
                return self.order.finish(Some(error));
            }
            return Next::Pending;
        }
    }

    /// Once the page being drained is empty, the next page due becomes it
    /// if it has arrived and passed its checks, and its records are not an
    /// earlier page's (then it is that page's error instead). Whether it
    /// did.
    fn promote(&mut self) -> bool {
        let (page_size, total) = (self.page_size, self.total());
        let (api_path, seen) = (&self.api_path, &mut self.seen);
        self.order.promote(|offset, page| {
            if let Some(hash) = page.hash
                && !seen.insert(hash)
            {
                let reason = format!(
                    "the page at offset {offset} held the same records as a page already \
                     delivered: the gateway ignores offset, so they would be repeated"
                );
                return Err(pagination(api_path, offset, reason));
            }
            let len = page.items.len() as u64;
            let end = offset.saturating_add(len);
            let last = len < page_size || total.is_some_and(|t| end >= t);
            Ok((page.items, last))
        })
    }

    /// Ends the export because the driver cannot go on (it could not start
    /// its requests, say): `cause` wrapped in an [`Error::Page`] naming the
    /// next page due. Every record released so far stays released; nothing
    /// more is asked for, and [`Pager::next_record`] says [`Next::Done`].
    pub fn abort(&mut self, cause: Error) -> Error {
        let error = self.page_failed(self.order.next_offset(), cause);
        self.order.abort();
        error
    }

    fn page_failed(&self, offset: u64, cause: Error) -> Error {
        page_failed(&self.api_path, offset, cause)
    }

    fn pagination(&self, offset: u64, reason: String) -> Error {
        pagination(&self.api_path, offset, reason)
    }
}

/// `cause` as the failure of the page at `offset`.
fn page_failed(api_path: &str, offset: u64, cause: Error) -> Error {
    Error::Page {
        function: api_path.to_owned(),
        offset,
        source: Box::new(cause),
    }
}

/// A failed check of the page at `offset`.
fn pagination(api_path: &str, offset: u64, reason: String) -> Error {
    let cause = Error::Pagination {
        function: api_path.to_owned(),
        offset,
        reason,
    };
    page_failed(api_path, offset, cause)
}

fn checked_len<E>(checked: &Result<(Checked, Option<u64>), E>) -> u64 {
    checked.as_ref().map_or(0, |(c, _)| c.items.len() as u64)
}

/// A hash of a page's records, to recognise a page seen before.
fn page_hash(items: &[Value]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for item in items {
        item.to_string().hash(&mut hasher);
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn page(ids: std::ops::Range<u64>, total: Option<u64>) -> Result<Value, Error> {
        let products: Vec<Value> = ids.map(|id| json!({"item_id": id})).collect();
        let mut data = json!({"products": products});
        if let Some(t) = total {
            data["total_products"] = json!(t);
        }
        Ok(json!({"code": "0", "data": data}))
    }

    fn param(request: &PageRequest, name: &str) -> String {
        request
            .params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    fn pager(size: u32, concurrency: usize) -> Pager {
        let mut pager = Pager::new("/p", &[], PageSpec::products(), size);
        pager.set_concurrency(concurrency);
        pager
    }

    fn fetches(pager: &mut Pager) -> Vec<PageRequest> {
        std::iter::from_fn(|| pager.next_fetch()).collect()
    }

    fn id(record: &Value) -> u64 {
        record["item_id"].as_u64().unwrap()
    }

    /// Drains every record that is ready.
    fn drain(pager: &mut Pager, out: &mut Vec<u64>) -> Next<Value> {
        loop {
            match pager.next_record() {
                Next::Record(r) => out.push(id(&r)),
                other => return other,
            }
        }
    }

    /// Runs `pager` against `gateway` (offset, limit, call number -> page),
    /// answering each batch of requests in reverse order (to be hard on
    /// the release order): the ids delivered and the error that ended it.
    fn run(
        mut pager: Pager,
        gateway: impl Fn(u64, u64, usize) -> Result<Value, Error>,
    ) -> (Vec<u64>, Option<Error>) {
        let mut ids = Vec::new();
        let mut call = 0;
        loop {
            let batch = fetches(&mut pager);
            assert!(batch.len() <= pager.concurrency(), "{batch:?}");
            for request in batch.iter().rev() {
                let offset = param(request, "offset").parse().unwrap();
                assert_eq!(offset, request.offset);
                let limit = param(request, "limit").parse().unwrap();
                pager.on_page(offset, gateway(offset, limit, call));
                call += 1;
                assert!(call < 1000, "runaway");
            }
            match drain(&mut pager, &mut ids) {
                Next::Pending => assert!(!batch.is_empty() || pager.in_flight() > 0),
                Next::Done => return (ids, None),
                Next::Failed(e) => {
                    assert!(matches!(pager.next_record(), Next::Done), "done after");
                    assert!(pager.next_fetch().is_none() && pager.is_done());
                    return (ids, Some(e));
                }
                Next::Record(_) => unreachable!(),
            }
        }
    }

    fn reason(error: Option<Error>, offset: u64) -> String {
        let error = error.expect("an error");
        let Error::Page { offset: at, .. } = &error else {
            panic!("{error:?}")
        };
        assert_eq!(*at, offset, "{error}");
        let Error::Pagination { reason, .. } = error.root() else {
            panic!("{error:?}")
        };
        reason.clone()
    }

    #[test]
    fn honest_pages_deliver_every_record_once_and_replace_offset_and_limit() {
        for concurrency in [1, 2, 4, MAX_CONCURRENCY] {
            for size in [1, 5, 10, 23, 50] {
                let mut pager = Pager::new(
                    "/products/get",
                    &[("filter", "live"), ("offset", "99"), ("limit", "7")],
                    PageSpec::products(),
                    size,
                );
                pager.set_concurrency(concurrency);
                let (ids, error) = run(pager, |o, l, _| page(o..(o + l).min(23), Some(23)));
                assert!(error.is_none(), "{error:?}");
                assert_eq!(ids, (0..23).collect::<Vec<_>>(), "size {size}");
            }
        }
        let mut zero = Pager::new("/p", &[("offset", "99")], PageSpec::products(), 0);
        let first = zero.next_fetch().unwrap();
        assert_eq!(
            first.params,
            [
                ("offset".to_owned(), "0".to_owned()),
                ("limit".to_owned(), "1".to_owned())
            ]
        );
        // No total: stops at the first short page.
        for concurrency in [1, 4] {
            let (ids, error) = run(pager(10, concurrency), |o, l, _| {
                page(o..(o + l).min(23), None)
            });
            assert!(error.is_none());
            assert_eq!(ids, (0..23).collect::<Vec<_>>());
        }
    }

    #[test]
    fn dishonest_gateways_end_with_a_page_error_naming_the_offset() {
        let spec = PageSpec::products;
        for k in [1, 4] {
            // Ignores offset.
            let (ids, e) = run(pager(10, k), |_, l, _| page(0..l, Some(40)));
            assert!(reason(e, 10).contains("same records"));
            assert_eq!(ids, (0..10).collect::<Vec<_>>());
            // The total grows.
            let (_, e) = run(pager(10, k), |o, l, c| {
                page(o..o + l, Some(20 + 10 * c as u64))
            });
            assert!(reason(e, 10).contains("from 20 to 30"));
            // The total vanishes.
            let (_, e) = run(pager(10, k), |o, l, c| {
                page(o..o + l, (c == 0).then_some(40))
            });
            assert!(reason(e, 10).contains("from 40 to none"));
            // More than the limit.
            let (ids, e) = run(pager(10, k), |o, l, _| page(o..o + l + 1, Some(40)));
            assert!(reason(e, 0).contains("more than the limit"));
            assert!(ids.is_empty());
            // Short before the total.
            let (ids, e) = run(pager(10, k), |o, l, _| {
                page(o..o + l - u64::from(o == 10), Some(40))
            });
            assert!(reason(e, 10).contains("fewer than"));
            assert_eq!(ids, (0..10).collect::<Vec<_>>());
            // Never-ending full pages hit the cap.
            let mut capped = Pager::new("/p", &[], spec().max_pages(7), 10);
            capped.set_concurrency(k);
            let (ids, e) = run(capped, |o, l, _| page(o..o + l, None));
            assert!(reason(e, 70).contains("7 pages"));
            assert_eq!(ids.len(), 70);
            // With a total beyond the cap, concurrently too: never more
            // than the cap asked for.
            let mut capped = Pager::new("/p", &[], spec().max_pages(3), 10);
            capped.set_concurrency(k);
            let (ids, e) = run(capped, |o, l, c| {
                assert!(c < 3, "a fourth page was asked for");
                page(o..o + l, Some(100))
            });
            assert!(reason(e, 30).contains("3 pages"));
            assert_eq!(ids, (0..30).collect::<Vec<_>>());
        }
        // Items that are not an array.
        let mut p = pager(10, 1);
        let first = p.next_fetch().unwrap();
        p.on_page(first.offset, Ok(json!({"data": {"products": 5}})));
        let Next::Failed(error) = p.next_record() else {
            panic!()
        };
        assert!(
            matches!(error.root(), Error::Undecodable { .. }),
            "{error:?}"
        );
        assert!(p.is_done() && p.next_fetch().is_none());
    }

    #[test]
    fn a_repeated_page_is_the_later_one_whatever_the_order_of_arrival() {
        // Pages 10 and 20 are the same (not the first); 20 arrives first.
        let mut p = pager(10, 4);
        let first = p.next_fetch().unwrap();
        p.on_page(first.offset, page(0..10, Some(40)));
        let batch = fetches(&mut p);
        assert_eq!(
            batch.iter().map(|r| r.offset).collect::<Vec<_>>(),
            [10, 20, 30]
        );
        p.on_page(30, page(30..40, Some(40)));
        p.on_page(20, page(10..20, Some(40)));
        p.on_page(10, page(10..20, Some(40)));
        let mut ids = Vec::new();
        let end = drain(&mut p, &mut ids);
        assert_eq!(ids, (0..20).collect::<Vec<_>>());
        let Next::Failed(error) = end else {
            panic!("{end:?}")
        };
        assert!(reason(Some(error), 20).contains("same records"));
    }

    #[test]
    fn the_first_page_goes_alone_then_pages_in_flight_are_released_in_order() {
        let mut p = pager(10, 4);
        let first = fetches(&mut p);
        assert_eq!(first.len(), 1, "the first page alone");
        assert!(matches!(p.next_record(), Next::Pending));
        p.on_page(0, page(0..10, Some(100)));
        assert_eq!((p.total(), p.pages_at_once()), (Some(100), 4));
        let batch = fetches(&mut p);
        assert_eq!(
            batch.iter().map(|r| r.offset).collect::<Vec<_>>(),
            [10, 20, 30, 40]
        );
        let mut out = Vec::new();
        assert!(matches!(drain(&mut p, &mut out), Next::Pending));
        assert_eq!(out, (0..10).collect::<Vec<_>>());
        // Out of order: 40, 30, 20 arrive first; nothing is released
        // before 10, and nothing more is asked for while four are held.
        for offset in [40, 30, 20] {
            p.on_page(offset, page(offset..offset + 10, Some(100)));
        }
        assert!(p.next_fetch().is_none(), "four held or in flight");
        assert!(matches!(drain(&mut p, &mut out), Next::Pending));
        assert_eq!(out.len(), 10);
        p.on_page(10, page(10..20, Some(100)));
        // 10 is being drained: room for one more beside the three held.
        assert!(matches!(p.next_record(), Next::Record(_)));
        let more = fetches(&mut p);
        assert_eq!(more.iter().map(|r| r.offset).collect::<Vec<_>>(), [50]);
        let mut pending: Vec<u64> = vec![50];
        out.push(10);
        loop {
            pending.extend(fetches(&mut p).iter().map(|r| r.offset));
            assert!(pending.len() <= 4, "{pending:?}");
            match drain(&mut p, &mut out) {
                Next::Pending => {
                    // The latest first.
                    let offset = pending.pop().unwrap();
                    p.on_page(offset, page(offset..offset + 10, Some(100)));
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
    fn pages_at_once_never_exceed_the_pages_left_and_never_pass_the_total() {
        let mut p = pager(5, MAX_CONCURRENCY);
        fetches(&mut p);
        p.on_page(0, page(0..5, Some(23)));
        assert_eq!(p.pages_at_once(), 4);
        let batch = fetches(&mut p);
        assert_eq!(
            batch.iter().map(|r| r.offset).collect::<Vec<_>>(),
            [5, 10, 15, 20]
        );
        // A single page: nothing more is asked for.
        let mut p = pager(10, 8);
        fetches(&mut p);
        p.on_page(0, page(0..7, Some(7)));
        assert!(p.next_fetch().is_none());
        let mut out = Vec::new();
        assert!(matches!(drain(&mut p, &mut out), Next::Done));
        assert_eq!(out, (0..7).collect::<Vec<_>>());
        // An empty export.
        let mut p = pager(10, 8);
        fetches(&mut p);
        p.on_page(0, page(0..0, Some(0)));
        assert!(matches!(p.next_record(), Next::Done));
    }

    #[test]
    fn without_a_total_it_stays_one_page_at_a_time() {
        let mut p = pager(10, 8);
        fetches(&mut p);
        p.on_page(0, page(0..10, None));
        assert_eq!(p.pages_at_once(), 0);
        assert!(matches!(p.next_record(), Next::Record(_)));
        assert!(p.next_fetch().is_none(), "the first page is still held");
        let mut out = vec![0];
        assert!(matches!(drain(&mut p, &mut out), Next::Pending));
        let next = fetches(&mut p);
        assert_eq!(next.len(), 1, "one at a time");
        assert_eq!(next[0].offset, 10);
    }

    #[test]
    fn a_failed_page_stops_release_at_its_offset_even_when_later_pages_arrived() {
        let mut p = pager(10, 4);
        fetches(&mut p);
        p.on_page(0, page(0..10, Some(100)));
        assert_eq!(fetches(&mut p).len(), 4);
        p.on_page(40, page(40..50, Some(100)));
        p.on_page(30, page(30..40, Some(100)));
        p.on_page(20, Err(Error::Config("boom".into())));
        let mut out = Vec::new();
        assert!(matches!(drain(&mut p, &mut out), Next::Pending));
        p.on_page(10, page(10..20, Some(100)));
        let end = drain(&mut p, &mut out);
        assert_eq!(out, (0..20).collect::<Vec<_>>(), "each once, none after");
        let Next::Failed(error) = end else {
            panic!("{end:?}")
        };
        assert!(matches!(error, Error::Page { offset: 20, .. }), "{error:?}");
        assert!(matches!(error.root(), Error::Config(_)));
        assert_eq!(p.offset(), 20);
        assert!(matches!(p.next_record(), Next::Done));
        assert!(p.next_fetch().is_none(), "nothing more is asked for");
        assert_eq!(p.in_flight(), 0);
        // An answer after the end, or for an offset never asked, is ignored.
        p.on_page(50, page(50..60, Some(100)));
        assert!(matches!(p.next_record(), Next::Done));
        let mut p = pager(10, 2);
        fetches(&mut p);
        p.on_page(5, page(5..15, Some(30)));
        assert!(matches!(p.next_record(), Next::Pending));
    }

    #[test]
    fn a_failed_call_is_wrapped_with_its_offset_and_ends_the_export() {
        let mut p = pager(10, 1);
        fetches(&mut p);
        p.on_page(0, page(0..10, Some(40)));
        let mut out = Vec::new();
        assert!(matches!(drain(&mut p, &mut out), Next::Pending));
        let second = p.next_fetch().unwrap();
        p.on_page(second.offset, Err(Error::Config("boom".into())));
        let Next::Failed(error) = p.next_record() else {
            panic!()
        };
        assert!(
            matches!(&error, Error::Page { offset: 10, .. }),
            "{error:?}"
        );
        assert!(matches!(error.root(), Error::Config(_)));
        assert!(p.next_fetch().is_none());
    }

    #[test]
    fn concurrency_above_the_maximum_is_refused_before_anything_is_asked() {
        let mut p = pager(10, MAX_CONCURRENCY + 1);
        assert!(p.next_fetch().is_none());
        let Next::Failed(Error::Config(message)) = p.next_record() else {
            panic!()
        };
        assert!(
            message.contains("65") && message.contains("64"),
            "{message}"
        );
        assert!(matches!(p.next_record(), Next::Done));
        assert_eq!(pager(10, 0).concurrency(), 1);
        assert!(pager(10, MAX_CONCURRENCY).next_fetch().is_some());
    }

    #[test]
    fn the_export_deadline_starts_at_the_first_page_and_is_shared() {
        let mut p = pager(10, 3);
        p.set_deadline(Duration::from_secs(30));
        let first = p.next_fetch().unwrap();
        p.on_page(0, page(0..10, Some(40)));
        let batch = fetches(&mut p);
        assert_eq!(batch.len(), 3);
        let a = first.deadline.unwrap();
        assert_eq!(a.limit(), Duration::from_secs(30));
        for request in batch {
            assert!(request.deadline.unwrap().remaining() <= a.limit());
        }
        assert!(matches!(
            Deadline::after(Duration::ZERO, TimeoutKind::ExportDeadline).expired(),
            Error::Timeout {
                kind: TimeoutKind::ExportDeadline,
                ..
            }
        ));
    }
}
