//! [`Records`]: the async list export, a thin driver over the core's
//! [`ListPager`] (the same decisions as the blocking
//! [`crate::miva::Records`]).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use miva_envelope::{ListPage, ListRequest};
use miva_protocol::miva::list::{ListPager, Next};
use miva_protocol::{Deadline, Error, TimeoutKind};
use tracing::Instrument;

use super::miva::MivaClient;

type PageFuture<T> = Pin<Box<dyn Future<Output = (u64, Result<ListPage<T>, Error>)> + Send>>;

/// The stream of [`MivaClient::list`]: each record exactly once, in order,
/// until `total_count`, with [`Records::concurrency`] pages in flight.
///
/// Every page is checked as the blocking [`crate::miva::Records`] checks
/// it (the decisions are the same core's [`ListPager`]): its `start_offset`
/// must be the `Offset` asked for, it may hold no more records than
/// `Count`, fewer only at `total_count`, and `total_count` must not change.
/// A page that fails a check or cannot be fetched ends the stream with
/// [`Error::Page`] naming its offset; every record before it was yielded
/// exactly once, none after it.
///
/// The page requests run inside the stream (nothing is spawned): they
/// progress while the stream is polled, at most the concurrency of pages
/// are held however slowly it is consumed, and dropping the stream drops
/// every request in flight, so no further request reaches the store.
pub struct Records<R: ListRequest> {
    client: MivaClient,
    request: Arc<R>,
    start: u64,
    page_size: u64,
    concurrency: usize,
    deadline: Option<Duration>,
    pager: Option<ListPager<R::Record>>,
    in_flight: Vec<PageFuture<R::Record>>,
    ended: bool,
    span: tracing::Span,
}

impl<R: ListRequest> fmt::Debug for Records<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Records")
            .field("function", &self.request.function())
            .field("page_size", &self.page_size)
            .field("concurrency", &self.concurrency)
            .field("deadline", &self.deadline)
            .field("in_flight", &self.in_flight.len())
            .finish_non_exhaustive()
    }
}

// The futures are boxed and the pager holds no self-references.
impl<R: ListRequest> Unpin for Records<R> {}

impl<R> Records<R>
where
    R: ListRequest + Send + Sync + 'static,
    R::Record: Send + 'static,
{
    pub(super) fn new(client: MivaClient, request: R) -> Self {
        let span = tracing::debug_span!("miva_list", function = request.function());
        Self {
            client,
            start: request.query().get_offset().unwrap_or(0),
            request: Arc::new(request),
            page_size: 100,
            concurrency: 1,
            deadline: None,
            pager: None,
            in_flight: Vec::new(),
            ended: false,
            span,
        }
    }

    /// Records per request (default 100; 0 is taken as 1).
    #[must_use]
    pub fn page_size(mut self, size: u64) -> Self {
        self.page_size = size.max(1);
        self
    }

    /// Pages fetched at once (default 1; 0 is taken as 1; at most
    /// [`crate::miva::MAX_CONCURRENCY`], and more is an [`Error::Config`]
    /// on the first poll, before anything is sent). Records still come out
    /// in order; at most this many pages are held besides the one being
    /// handed out, each within 1/(pages + 1) of the body limit.
    #[must_use]
    pub fn concurrency(mut self, pages: usize) -> Self {
        self.concurrency = pages.max(1);
        self
    }

    /// An overall limit on the whole export, from the first poll: a request
    /// in flight when it passes is cut off, and the stream ends with
    /// [`Error::Page`] whose [`Error::root`] is an [`Error::Timeout`]
    /// naming the export deadline.
    #[must_use]
    pub fn deadline(mut self, limit: Duration) -> Self {
        self.deadline = Some(limit);
        self
    }

    /// `total_count` once the first page has arrived.
    pub fn total_count(&self) -> Option<u64> {
        self.pager.as_ref().and_then(ListPager::total_count)
    }

    /// Page requests in flight now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    fn end(
        &mut self,
        item: Option<Result<R::Record, Error>>,
    ) -> Poll<Option<Result<R::Record, Error>>> {
        self.ended = true;
        self.in_flight.clear();
        Poll::Ready(item)
    }
}

impl<R> Stream for Records<R>
where
    R: ListRequest + Send + Sync + 'static,
    R::Record: Send + 'static,
{
    type Item = Result<R::Record, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(None);
        }
        if this.pager.is_none() {
            let deadline = this
                .deadline
                .map(|d| Deadline::after(d, TimeoutKind::ExportDeadline));
            let body_limit = this.client.call_budget().body_limit();
            match ListPager::new(
                this.request.function(),
                this.start,
                this.page_size,
                this.concurrency,
                body_limit,
                deadline,
            ) {
                Ok(pager) => this.pager = Some(pager),
                Err(e) => return this.end(Some(Err(e))),
            }
        }
        loop {
            let Some(pager) = this.pager.as_mut() else {
                return this.end(None);
            };
            // Start every fetch the machine allows now.
            while let Some(fetch) = pager.next_fetch() {
                let client = this.client.clone();
                let request = Arc::clone(&this.request);
                let deadline = pager.deadline().cloned();
                let span = this.span.clone();
                this.in_flight.push(Box::pin(
                    async move {
                        let page = client
                            .fetch_page(
                                &*request,
                                fetch.offset,
                                fetch.count,
                                deadline.as_ref(),
                                fetch.pages,
                            )
                            .await;
                        (fetch.offset, page)
                    }
                    .instrument(span),
                ));
            }
            // Hand in whatever has ended, in any order.
            let mut arrived = false;
            let mut i = 0;
            while i < this.in_flight.len() {
                match this.in_flight[i].as_mut().poll(cx) {
                    Poll::Ready((offset, page)) => {
                        drop(this.in_flight.swap_remove(i));
                        pager.on_page(offset, page);
                        arrived = true;
                    }
                    Poll::Pending => i += 1,
                }
            }
            match pager.next_record() {
                Next::Record(record) => return Poll::Ready(Some(Ok(record))),
                Next::Done => return this.end(None),
                Next::Failed(error) => return this.end(Some(Err(error))),
                Next::Pending if arrived => {}
                Next::Pending if this.in_flight.is_empty() => {
                    // Nothing in flight and nothing to start: the machine
                    // cannot go on (never expected; ends rather than hangs).
                    let error = pager.abort(Error::Config(
                        "the list export has no page in flight to wait for".into(),
                    ));
                    return this.end(Some(Err(error)));
                }
                Next::Pending => return Poll::Pending,
            }
        }
    }
}
