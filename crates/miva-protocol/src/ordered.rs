//! The ordering half of both platforms' paging machines
//! ([`ListPager`](crate::miva::list::ListPager),
//! [`Pager`](crate::miravia::Pager)): which pages are in flight, the
//! answers held until their turn (in any order of arrival), the page being
//! drained, and the release of records in offset order, exactly once. What
//! a page must hold to be released is each machine's own.

use std::collections::{BTreeMap, BTreeSet};

use crate::Error;
use crate::miva::list::Next;

/// Pages by offset, released in order.
pub(crate) struct Ordered<P, T> {
    /// The offset of the next page whose records are due.
    next_offset: u64,
    in_flight: BTreeSet<u64>,
    /// Pages answered (and checked) but not yet reached, by offset.
    waiting: BTreeMap<u64, Result<P, Error>>,
    /// The records of the page being drained.
    buffer: std::vec::IntoIter<T>,
    /// The page being drained is the last one.
    last: bool,
    /// The export has ended (`Done` or `Failed` was given).
    finished: bool,
}

impl<P, T> Ordered<P, T> {
    pub(crate) fn new(start: u64) -> Self {
        Self {
            next_offset: start,
            in_flight: BTreeSet::new(),
            waiting: BTreeMap::new(),
            buffer: Vec::new().into_iter(),
            last: false,
            finished: false,
        }
    }

    pub(crate) fn next_offset(&self) -> u64 {
        self.next_offset
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    pub(crate) fn is_in_flight(&self, offset: u64) -> bool {
        self.in_flight.contains(&offset)
    }

    /// Pages in flight or waiting (the page being drained not counted).
    pub(crate) fn held(&self) -> usize {
        self.in_flight.len() + self.waiting.len()
    }

    /// Nothing is left of the page being drained.
    pub(crate) fn drained(&self) -> bool {
        self.buffer.as_slice().is_empty()
    }

    /// Whether no more pages may be asked for: the last page is being
    /// drained, or the export has ended.
    pub(crate) fn closed(&self) -> bool {
        self.last || self.finished
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.finished
    }

    /// The page at `offset` was handed out to fetch.
    pub(crate) fn asked(&mut self, offset: u64) {
        self.in_flight.insert(offset);
    }

    /// The page at `offset` has been answered: whether it was asked for
    /// and the export goes on (else the answer is to be ignored).
    pub(crate) fn answered(&mut self, offset: u64) -> bool {
        self.in_flight.remove(&offset) && !self.finished
    }

    /// Holds the checked answer at `offset` until its turn.
    pub(crate) fn hold(&mut self, offset: u64, page: Result<P, Error>) {
        self.waiting.insert(offset, page);
    }

    /// The next record of the page being drained.
    pub(crate) fn next_buffered(&mut self) -> Option<T> {
        self.buffer.next()
    }

    /// The failed answer of the page due, if that is what is held for it.
    pub(crate) fn take_failure(&mut self) -> Option<Error> {
        match self.waiting.remove(&self.next_offset) {
            Some(Err(e)) => Some(e),
            Some(Ok(page)) => {
                self.waiting.insert(self.next_offset, Ok(page));
                None
            }
            None => None,
        }
    }

    /// Once the page being drained is empty, the next page due becomes it
    /// if it has arrived and passed its checks, and `accept` takes it:
    /// `Ok((records, last))`, or the page's error instead (held in its
    /// place). Whether a page became the one drained.
    pub(crate) fn promote(
        &mut self,
        accept: impl FnOnce(u64, P) -> Result<(Vec<T>, bool), Error>,
    ) -> bool {
        if !self.drained() || self.closed() {
            return false;
        }
        let offset = self.next_offset;
        if !matches!(self.waiting.get(&offset), Some(Ok(_))) {
            return false;
        }
        let Some(Ok(page)) = self.waiting.remove(&offset) else {
            return false;
        };
        match accept(offset, page) {
            Err(error) => {
                self.waiting.insert(offset, Err(error));
                false
            }
            Ok((records, last)) => {
                self.next_offset = offset.saturating_add(records.len() as u64);
                if last {
                    self.last = true;
                    self.in_flight.clear();
                    self.waiting.clear();
                }
                self.buffer = records.into_iter();
                true
            }
        }
    }

    /// Ends the export: nothing more is asked for, nothing held.
    pub(crate) fn finish(&mut self, error: Option<Error>) -> Next<T> {
        self.finished = true;
        self.in_flight.clear();
        self.waiting.clear();
        match error {
            Some(e) => Next::Failed(e),
            None => Next::Done,
        }
    }

    /// Ends the export at once, the page being drained dropped too.
    pub(crate) fn abort(&mut self) {
        self.finished = true;
        self.in_flight.clear();
        self.waiting.clear();
        self.buffer = Vec::new().into_iter();
    }
}
