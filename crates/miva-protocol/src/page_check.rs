//! The checks every page of a paged export passes, on both platforms: a
//! page is held against what was asked for it, so a server that ignores or
//! shifts the offset, sends more or fewer records than it should, or whose
//! total moves, ends the export with a reason instead of repeating or
//! skipping records. Miva's and Miravia's pagers both call [`check`]; each
//! adds only what its platform alone has (Miravia's repeated-page hash, its
//! page cap).

/// What was asked for one page and what came back.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageAnswer {
    /// The offset asked for.
    pub offset: u64,
    /// How many records were asked for.
    pub count: u64,
    /// Where the server says the page starts, when it says.
    pub start_offset: Option<u64>,
    /// How many records came back.
    pub len: u64,
    /// The total this page reports, when the platform reports one.
    pub total: Option<u64>,
}

/// A platform's names for the request's offset and count and the answer's
/// total, so that each message uses the words of the wire.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Names {
    /// The request's offset parameter.
    pub offset: &'static str,
    /// The request's count parameter.
    pub count: &'static str,
    /// The answer's total.
    pub total: &'static str,
}

/// Miva's `Offset`, `Count` and `total_count`.
pub(crate) const MIVA: Names = Names {
    offset: "Offset",
    count: "Count",
    total: "total_count",
};

/// Miravia's `offset`, `limit` and the total of its `PageSpec`.
pub(crate) const MIRAVIA: Names = Names {
    offset: "offset",
    count: "limit",
    total: "the total",
};

/// `None` when `page` is what a server that honours the offset and count
/// sends, otherwise why not. `first_total` is the first page's total
/// (`None` when `page` is the first page).
pub(crate) fn check(
    page: &PageAnswer,
    first_total: Option<Option<u64>>,
    names: &Names,
) -> Option<String> {
    let Names {
        offset: offset_name,
        count: count_name,
        total: total_name,
    } = *names;
    let show = |t: Option<u64>| t.map_or("none".to_owned(), |t| t.to_string());
    if let Some(first) = first_total
        && first != page.total
    {
        return Some(format!(
            "{total_name} changed from {} to {} while paging: records were added or removed, \
             so some would be skipped or repeated; start the export again (or sort by a \
             stable key and filter on it)",
            show(first),
            show(page.total)
        ));
    }
    let PageAnswer {
        offset, count, len, ..
    } = *page;
    if let Some(start) = page.start_offset
        && start != offset
    {
        return Some(format!(
            "the server answered start_offset {start} for the page requested at \
             {offset_name} {offset}: it ignores or shifts {offset_name}, so records would be \
             repeated or skipped"
        ));
    }
    if len > count {
        return Some(format!(
            "the page held {len} records, more than the {count_name} {count} asked for"
        ));
    }
    let total = page.total?;
    let end = offset.saturating_add(len);
    // An empty page at or past the end is what an offset beyond the last
    // record gets; records past the total are not.
    if len > 0 && end > total {
        return Some(format!(
            "the page held {len} records from {offset_name} {offset}, past {total_name} {total}"
        ));
    }
    if len < count && end < total {
        return Some(if len == 0 {
            format!("the page came back empty before {total_name} {total} was reached")
        } else {
            format!(
                "the page held {len} records, fewer than the {count_name} {count} asked for, \
                 before {total_name} {total} was reached"
            )
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(offset: u64, start: Option<u64>, len: u64, total: Option<u64>) -> PageAnswer {
        PageAnswer {
            offset,
            count: 10,
            start_offset: start,
            len,
            total,
        }
    }

    #[test]
    fn honest_pages_pass() {
        for page in [
            answer(0, Some(0), 10, Some(30)),
            answer(20, Some(20), 10, Some(30)),
            answer(20, Some(20), 5, Some(25)),
            // An offset past the end: nothing there, nothing wrong.
            answer(1000, Some(1000), 0, Some(100)),
            // No start_offset in the answer: that check cannot be made.
            answer(10, None, 10, Some(30)),
            // No total (Miravia without one): only the count is checked.
            answer(10, None, 3, None),
        ] {
            assert_eq!(check(&page, None, &MIVA), None, "{page:?}");
        }
    }

    #[test]
    fn dishonest_pages_say_why() {
        let cases = [
            (answer(10, Some(0), 10, Some(30)), None, "start_offset 0"),
            (
                answer(0, Some(0), 11, Some(30)),
                None,
                "more than the Count 10",
            ),
            (
                answer(20, Some(20), 10, Some(25)),
                None,
                "past total_count 25",
            ),
            (
                answer(10, Some(10), 9, Some(30)),
                None,
                "fewer than the Count",
            ),
            (answer(10, Some(10), 0, Some(30)), None, "came back empty"),
            (
                answer(10, Some(10), 10, Some(31)),
                Some(Some(30)),
                "from 30 to 31",
            ),
            (
                answer(10, Some(10), 10, None),
                Some(Some(30)),
                "from 30 to none",
            ),
        ];
        for (page, first, needle) in cases {
            let why = check(&page, first, &MIVA).unwrap_or_default();
            assert!(why.contains(needle), "{page:?}: {why}");
        }
        let why = check(&answer(0, None, 11, None), None, &MIRAVIA).unwrap_or_default();
        assert!(why.contains("more than the limit 10"), "{why}");
    }
}
