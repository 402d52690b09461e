//! [`Records`]: the async list export, a thin driver over the core's
//! [`ListPager`] (the same decisions as the blocking
//! [`crate::miva::Records`]).

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use miva_envelope::ListRequest;
use miva_protocol::Error;
use miva_protocol::miva::list::ListPager;

use super::miva::MivaClient;
use super::pages::PageTasks;
use crate::miva::records::ExportSettings;

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
/// Each page request runs as a task on the runtime polling the stream, so
/// it progresses (and its timeout and in-flight permit with it) however
/// slowly the stream is consumed; at most the concurrency of pages are in
/// flight or held besides the one being handed out. Dropping the stream
/// aborts every request in flight, so no further request reaches the
/// store. Poll it from within a tokio runtime.
pub struct Records<R: ListRequest>
where
    R::Record: Send + 'static,
{
    client: MivaClient,
    request: Arc<R>,
    settings: ExportSettings,
    tasks: Option<PageTasks<ListPager<R::Record>>>,
    failed: bool,
}

impl<R: ListRequest> fmt::Debug for Records<R>
where
    R::Record: Send + 'static,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Records")
            .field("function", &self.request.function())
            .field("settings", &self.settings)
            .field(
                "in_flight",
                &self.tasks.as_ref().map_or(0, PageTasks::in_flight),
            )
            .finish_non_exhaustive()
    }
}

// The page tasks are owned through a JoinSet; nothing is self-referential.
impl<R: ListRequest> Unpin for Records<R> where R::Record: Send + 'static {}

impl<R> Records<R>
where
    R: ListRequest + Send + Sync + 'static,
    R::Record: Send + 'static,
{
    pub(super) fn new(client: MivaClient, request: R) -> Self {
        Self {
            client,
            settings: ExportSettings::new(&request),
            request: Arc::new(request),
            tasks: None,
            failed: false,
        }
    }

    /// Records per request (default 100; 0 is taken as 1).
    #[must_use]
    pub fn page_size(mut self, size: u64) -> Self {
        self.settings.set_page_size(size);
        self
    }

    /// Pages fetched at once (default 1; 0 is taken as 1; at most
    /// [`crate::miva::MAX_CONCURRENCY`], and more is an [`Error::Config`]
    /// on the first poll, before anything is sent). Records still come out
    /// in order; at most this many pages are held besides the one being
    /// handed out, each within 1/(pages + 1) of the body limit.
    #[must_use]
    pub fn concurrency(mut self, pages: usize) -> Self {
        self.settings.set_concurrency(pages);
        self
    }

    /// An overall limit on the whole export, from the first poll: a request
    /// in flight when it passes is cut off, and the stream ends with
    /// [`Error::Page`] whose [`Error::root`] is an [`Error::Timeout`]
    /// naming the export deadline.
    #[must_use]
    pub fn deadline(mut self, limit: Duration) -> Self {
        self.settings.deadline = Some(limit);
        self
    }

    /// `total_count` once the first page has arrived.
    pub fn total_count(&self) -> Option<u64> {
        self.tasks.as_ref().and_then(|t| t.machine().total_count())
    }

    /// Page requests in flight now (running, or answered and not yet
    /// checked).
    pub fn in_flight(&self) -> usize {
        self.tasks.as_ref().map_or(0, PageTasks::in_flight)
    }

    /// The machine and its page tasks, made on the first poll (the
    /// deadline counts from there).
    fn start(&mut self) -> Result<&mut PageTasks<ListPager<R::Record>>, Error> {
        if self.tasks.is_none() {
            let pager = self.settings.pager(
                self.request.function(),
                self.client.call_budget().body_limit(),
            )?;
            let client = self.client.clone();
            let request = Arc::clone(&self.request);
            self.tasks = Some(PageTasks::new(
                pager,
                Box::new(move |pager: &ListPager<R::Record>, fetch| {
                    let client = client.clone();
                    let request = Arc::clone(&request);
                    let deadline = pager.deadline().cloned();
                    Box::pin(async move {
                        client
                            .fetch_page(
                                &*request,
                                fetch.offset,
                                fetch.count,
                                deadline.as_ref(),
                                fetch.pages,
                            )
                            .await
                    })
                }),
            ));
        }
        match self.tasks.as_mut() {
            Some(tasks) => Ok(tasks),
            None => Err(Error::Config("the list export did not start".into())),
        }
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
        if this.failed {
            return Poll::Ready(None);
        }
        match this.start() {
            Ok(tasks) => tasks.poll_next(cx),
            Err(e) => {
                this.failed = true;
                Poll::Ready(Some(Err(e)))
            }
        }
    }
}
