//! The Miravia pager: offset/limit paging as a state machine, with every
//! check a page must pass before its records are handed out.

use std::collections::HashSet;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::time::Duration;

use serde_json::Value;

use super::PageSpec;
use crate::page_check::{MIRAVIA, PageAnswer, check};
use crate::{Deadline, Error, TimeoutKind};

/// Every record of an offset/limit endpoint, page by page, in order: which
/// page to ask for next ([`Pager::next_page`]) and what an answer yields
/// ([`Pager::on_page`]).
///
/// It ends when the total is reached, or, when the endpoint gives no
/// total, at the first page with fewer records than the page size. Every
/// page is checked first, and one that fails ends the export with
/// [`Error::Page`] naming its offset (its [`Error::root`] is an
/// [`Error::Pagination`] saying why; a failed call is the call's error):
/// the total is read from the first page and must not change or vanish; a
/// page may not hold more records than the limit, nor fewer before the
/// total; a page with the same records as one already delivered (a
/// gateway that ignores `offset`) is never delivered again; and more than
/// [`PageSpec::max_pages`] pages is an error, not an endless loop. Every
/// record before the failed page was delivered exactly once.
pub struct Pager {
    api_path: String,
    params: Vec<(String, String)>,
    spec: PageSpec,
    page_size: u32,
    offset: u64,
    done: bool,
    /// Pages asked for so far.
    pages: usize,
    /// The first page's total (`Some(None)`: it gave none).
    total: Option<Option<u64>>,
    /// A hash of each non-empty page's records.
    seen: HashSet<u64>,
    /// The whole export's limit.
    limit: Option<Duration>,
    /// The whole export's deadline, from the first page request.
    deadline: Option<Deadline>,
}

impl fmt::Debug for Pager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pager")
            .field("api_path", &self.api_path)
            .field("offset", &self.offset)
            .field("pages", &self.pages)
            .field("deadline", &self.limit)
            .finish_non_exhaustive()
    }
}

/// The request for one page: a GET of the pager's API path with these
/// parameters (`offset` and `limit` set), within this deadline.
#[derive(Debug, Clone)]
pub struct PageRequest {
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
    /// `params` (any `offset` or `limit` among them is replaced).
    pub fn new(api_path: &str, params: &[(&str, &str)], spec: PageSpec, page_size: u32) -> Self {
        Self {
            api_path: api_path.to_owned(),
            params: params
                .iter()
                .filter(|(n, _)| *n != "offset" && *n != "limit")
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            spec,
            page_size: page_size.max(1),
            offset: 0,
            done: false,
            pages: 0,
            total: None,
            seen: HashSet::new(),
            limit: None,
            deadline: None,
        }
    }

    /// An overall limit on the whole export, from the first
    /// [`Pager::next_page`]: every page request gets at most the time left,
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

    /// The offset of the next page due (or of the page that failed).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Whether the export has ended (every record handed out, or an error).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The next page to fetch; `None` once the export has ended.
    ///
    /// # Errors
    /// [`Error::Page`] when [`PageSpec::max_pages`] pages were fetched and
    /// the gateway still has more; the export then ends.
    pub fn next_page(&mut self) -> Option<Result<PageRequest, Error>> {
        if self.done {
            return None;
        }
        // The field is public: 0 is taken as 1, as `PageSpec::max_pages` says.
        let max = self.spec.max_pages.max(1);
        if self.pages >= max {
            return Some(Err(self.pagination(format!(
                "{max} pages fetched and the gateway still has more (every page full, or the \
                 total not reached): stopped rather than page forever; raise \
                 PageSpec::max_pages if there really are more"
            ))));
        }
        self.pages += 1;
        if self.deadline.is_none() {
            self.deadline = self
                .limit
                .map(|d| Deadline::after(d, TimeoutKind::ExportDeadline));
        }
        let mut params = self.params.clone();
        params.push(("offset".to_owned(), self.offset.to_string()));
        params.push(("limit".to_owned(), self.page_size.to_string()));
        Some(Ok(PageRequest {
            params,
            deadline: self.deadline.clone(),
        }))
    }

    /// The answer to the page last asked for: its records, in order, once
    /// it passed every check.
    ///
    /// # Errors
    /// [`Error::Page`] for a failed call or a page that fails a check; the
    /// export then ends.
    pub fn on_page(&mut self, answer: Result<Value, Error>) -> Result<Vec<Value>, Error> {
        let mut page = match answer {
            Ok(page) => page,
            Err(e) => return Err(self.fail(e)),
        };
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
                return Err(self.fail(cause));
            }
        };
        let len = items.len() as u64;
        let limit = u64::from(self.page_size);
        let answer = PageAnswer {
            offset: self.offset,
            count: limit,
            start_offset: None,
            len,
            total,
        };
        if let Some(reason) = check(&answer, self.total, &MIRAVIA) {
            return Err(self.pagination(reason));
        }
        self.total = Some(total);
        if !items.is_empty() && !self.seen.insert(page_hash(&items)) {
            let reason = format!(
                "the page at offset {} held the same records as a page already delivered: \
                 the gateway ignores offset, so they would be repeated",
                self.offset
            );
            return Err(self.pagination(reason));
        }
        self.offset = self.offset.saturating_add(len);
        if len < limit || total.is_some_and(|t| self.offset >= t) {
            self.done = true;
        }
        Ok(items)
    }

    /// Ends the export with `cause` for the page at the current offset.
    fn fail(&mut self, cause: Error) -> Error {
        self.done = true;
        Error::Page {
            function: self.api_path.clone(),
            offset: self.offset,
            source: Box::new(cause),
        }
    }

    fn pagination(&mut self, reason: String) -> Error {
        let cause = Error::Pagination {
            function: self.api_path.clone(),
            offset: self.offset,
            reason,
        };
        self.fail(cause)
    }
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

    /// Runs `pager` against `gateway` (offset, limit, call number -> page):
    /// the ids delivered and the error that ended it.
    fn run(
        mut pager: Pager,
        gateway: impl Fn(u64, u64, usize) -> Result<Value, Error>,
    ) -> (Vec<u64>, Option<Error>) {
        let mut ids = Vec::new();
        let mut call = 0;
        while let Some(request) = pager.next_page() {
            let request = match request {
                Ok(r) => r,
                Err(e) => return (ids, Some(e)),
            };
            let offset = param(&request, "offset").parse().unwrap();
            let limit = param(&request, "limit").parse().unwrap();
            match pager.on_page(gateway(offset, limit, call)) {
                Ok(items) => ids.extend(items.iter().map(|v| v["item_id"].as_u64().unwrap())),
                Err(e) => return (ids, Some(e)),
            }
            call += 1;
            assert!(call < 1000, "runaway");
        }
        (ids, None)
    }

    fn reason(error: Option<Error>, offset: u64) -> String {
        let error = error.expect("an error");
        let Error::Page { offset: at, .. } = &error else {
            panic!("{error:?}")
        };
        assert_eq!(*at, offset);
        let Error::Pagination { reason, .. } = error.root() else {
            panic!("{error:?}")
        };
        reason.clone()
    }

    #[test]
    fn honest_pages_deliver_every_record_once_and_replace_offset_and_limit() {
        for size in [1, 5, 10, 23, 50] {
            let pager = Pager::new(
                "/products/get",
                &[("filter", "live"), ("offset", "99"), ("limit", "7")],
                PageSpec::products(),
                size,
            );
            let (ids, error) = run(pager, |o, l, _| page(o..(o + l).min(23), Some(23)));
            assert!(error.is_none(), "{error:?}");
            assert_eq!(ids, (0..23).collect::<Vec<_>>(), "size {size}");
        }
        let mut pager = Pager::new("/p", &[("offset", "99")], PageSpec::products(), 0);
        let first = pager.next_page().unwrap().unwrap();
        assert_eq!(
            first.params,
            [
                ("offset".to_owned(), "0".to_owned()),
                ("limit".to_owned(), "1".to_owned())
            ]
        );
        // No total: stops at the first short page.
        let pager = Pager::new("/p", &[], PageSpec::products(), 10);
        let (ids, error) = run(pager, |o, l, _| page(o..(o + l).min(23), None));
        assert!(error.is_none());
        assert_eq!(ids.len(), 23);
    }

    #[test]
    fn dishonest_gateways_end_with_a_page_error_naming_the_offset() {
        let spec = PageSpec::products;
        // Ignores offset.
        let (ids, e) = run(Pager::new("/p", &[], spec(), 10), |_, l, _| {
            page(0..l, Some(40))
        });
        assert!(reason(e, 10).contains("same records"));
        assert_eq!(ids, (0..10).collect::<Vec<_>>());
        // The total grows.
        let (_, e) = run(Pager::new("/p", &[], spec(), 10), |o, l, c| {
            page(o..o + l, Some(20 + 10 * c as u64))
        });
        assert!(reason(e, 10).contains("from 20 to 30"));
        // More than the limit.
        let (ids, e) = run(Pager::new("/p", &[], spec(), 10), |o, l, _| {
            page(o..o + l + 1, Some(40))
        });
        assert!(reason(e, 0).contains("more than the limit"));
        assert!(ids.is_empty());
        // Short before the total.
        let (_, e) = run(Pager::new("/p", &[], spec(), 10), |o, l, _| {
            page(o..o + l - u64::from(o == 10), Some(40))
        });
        assert!(reason(e, 10).contains("fewer than"));
        // Never-ending full pages hit the cap.
        let (ids, e) = run(Pager::new("/p", &[], spec().max_pages(7), 10), |o, l, _| {
            page(o..o + l, None)
        });
        assert!(reason(e, 70).contains("7 pages"));
        assert_eq!(ids.len(), 70);
        // Items that are not an array.
        let mut pager = Pager::new("/p", &[], spec(), 10);
        pager.next_page().unwrap().unwrap();
        let error = pager
            .on_page(Ok(json!({"data": {"products": 5}})))
            .unwrap_err();
        assert!(
            matches!(error.root(), Error::Undecodable { .. }),
            "{error:?}"
        );
        assert!(pager.is_done() && pager.next_page().is_none());
    }

    #[test]
    fn a_failed_call_is_wrapped_with_its_offset_and_ends_the_export() {
        let mut pager = Pager::new("/p", &[], PageSpec::products(), 10);
        pager.next_page().unwrap().unwrap();
        pager.on_page(page(0..10, Some(40))).unwrap();
        pager.next_page().unwrap().unwrap();
        let error = pager
            .on_page(Err(Error::Config("boom".into())))
            .unwrap_err();
        assert!(
            matches!(&error, Error::Page { offset: 10, .. }),
            "{error:?}"
        );
        assert!(matches!(error.root(), Error::Config(_)));
        assert!(pager.next_page().is_none());
    }

    #[test]
    fn the_export_deadline_starts_at_the_first_page_and_is_shared() {
        let mut pager = Pager::new("/p", &[], PageSpec::products(), 10);
        pager.set_deadline(Duration::from_secs(30));
        let first = pager.next_page().unwrap().unwrap();
        pager.on_page(page(0..10, Some(40))).unwrap();
        let second = pager.next_page().unwrap().unwrap();
        let (a, b) = (first.deadline.unwrap(), second.deadline.unwrap());
        assert_eq!(a.limit(), Duration::from_secs(30));
        assert!(b.remaining() <= a.limit());
        assert!(matches!(
            Deadline::after(Duration::ZERO, TimeoutKind::ExportDeadline).expired(),
            Error::Timeout {
                kind: TimeoutKind::ExportDeadline,
                ..
            }
        ));
    }
}
