//! One behaviour suite, two drivers: a test written once as
//! `both! { async fn name<D>() { ... } }` runs against the blocking
//! `miva_http::miva::MivaClient` (as `name::blocking`) and the async
//! `miva_http::tokio::MivaClient` (as `name::tokio`), through the [`Driver`]
//! trait, so the two clients cannot drift apart.
//!
//! Include it with `#[path = "common/miva_driver.rs"] #[macro_use] mod driver;`.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use miva_envelope::{ListRequest, MivaRequest, Operation, OperationResult};
use miva_http::Error;
use miva_http::miva::{CallOptions, MivaClientBuilder};
use miva_sign::Credential;
use serde_json::Value;

/// How a test lists: the same settings on both drivers' exports.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListOpts {
    pub page_size: Option<u64>,
    pub concurrency: Option<usize>,
    pub deadline: Option<Duration>,
}

impl ListOpts {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn page_size(mut self, size: u64) -> Self {
        self.page_size = Some(size);
        self
    }
    pub fn concurrency(mut self, pages: usize) -> Self {
        self.concurrency = Some(pages);
        self
    }
    pub fn deadline(mut self, limit: Duration) -> Self {
        self.deadline = Some(limit);
        self
    }
}

/// What a behaviour test may do with a Miva client, on either driver.
pub trait Driver: Sized + Clone + Send + Sync + 'static {
    /// `"blocking"` or `"tokio"`.
    const NAME: &'static str;

    fn builder(endpoint: &str, credential: Credential) -> MivaClientBuilder<Self>;
    fn build(builder: MivaClientBuilder<Self>) -> Result<Self, Error>;
    fn store_code(&self) -> Option<&str>;
    fn clock_offset_ms(&self) -> i64;

    async fn call<R: MivaRequest + Sync>(&self, request: &R) -> Result<R::Response, Error>
    where
        R::Response: Send;
    async fn call_with<R: MivaRequest + Sync>(
        &self,
        request: &R,
        options: &CallOptions,
    ) -> Result<R::Response, Error>
    where
        R::Response: Send;
    async fn call_raw(&self, function: &str, params: &Value) -> Result<Value, Error>;
    async fn call_raw_with(
        &self,
        function: &str,
        params: &Value,
        options: &CallOptions,
    ) -> Result<Value, Error>;
    async fn call_module(
        &self,
        module: &str,
        function: &str,
        params: &Value,
    ) -> Result<Value, Error>;
    async fn multicall(&self, operations: &[Operation]) -> Result<Vec<OperationResult>, Error>;
    async fn multicall_with(
        &self,
        operations: &[Operation],
        options: &CallOptions,
    ) -> Result<Vec<OperationResult>, Error>;

    /// Runs `client.list(request)` with `opts`, handing each item to `each`
    /// as it comes (nothing collected), until the export ends or `each`
    /// returns false.
    async fn list_each<R>(
        &self,
        request: R,
        opts: ListOpts,
        each: impl FnMut(Result<R::Record, Error>) -> bool,
    ) where
        R: ListRequest + Send + Sync + 'static,
        R::Record: Send + 'static;

    /// Every item of `client.list(request)` with `opts`.
    async fn list_all<R>(&self, request: R, opts: ListOpts) -> Vec<Result<R::Record, Error>>
    where
        R: ListRequest + Send + Sync + 'static,
        R::Record: Send + 'static,
    {
        let mut out = Vec::new();
        self.list_each(request, opts, |item| {
            out.push(item);
            true
        })
        .await;
        out
    }

    /// Like [`Driver::list_each`], but `each` is async: it may call the
    /// client between items (the export waits for it).
    async fn list_each_async<R>(
        &self,
        request: R,
        opts: ListOpts,
        each: impl AsyncFnMut(Result<R::Record, Error>) -> bool,
    ) where
        R: ListRequest + Send + Sync + 'static,
        R::Record: Send + 'static;

    /// Runs `work` on `n` clones of the client at the same time and returns
    /// the results in order: each on its own std thread for the blocking
    /// driver (its calls block), all polled together on the test's task
    /// for the async one.
    async fn concurrently<T, F, Fut>(&self, n: usize, work: F) -> Vec<T>
    where
        T: Send + 'static,
        F: Fn(Self) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = T>;

    /// The client's `Debug` text.
    fn debug(&self) -> String;
}

impl Driver for miva_http::miva::MivaClient {
    const NAME: &'static str = "blocking";

    fn builder(endpoint: &str, credential: Credential) -> MivaClientBuilder<Self> {
        miva_http::miva::MivaClient::builder(endpoint, credential)
    }
    fn build(builder: MivaClientBuilder<Self>) -> Result<Self, Error> {
        builder.build()
    }
    fn store_code(&self) -> Option<&str> {
        miva_http::miva::MivaClient::store_code(self)
    }
    fn clock_offset_ms(&self) -> i64 {
        miva_http::miva::MivaClient::clock_offset_ms(self)
    }
    async fn call<R: MivaRequest + Sync>(&self, request: &R) -> Result<R::Response, Error>
    where
        R::Response: Send,
    {
        miva_http::miva::MivaClient::call(self, request)
    }
    async fn call_with<R: MivaRequest + Sync>(
        &self,
        request: &R,
        options: &CallOptions,
    ) -> Result<R::Response, Error>
    where
        R::Response: Send,
    {
        miva_http::miva::MivaClient::call_with(self, request, options)
    }
    async fn call_raw(&self, function: &str, params: &Value) -> Result<Value, Error> {
        miva_http::miva::MivaClient::call_raw(self, function, params)
    }
    async fn call_raw_with(
        &self,
        function: &str,
        params: &Value,
        options: &CallOptions,
    ) -> Result<Value, Error> {
        miva_http::miva::MivaClient::call_raw_with(self, function, params, options)
    }
    async fn call_module(
        &self,
        module: &str,
        function: &str,
        params: &Value,
    ) -> Result<Value, Error> {
        miva_http::miva::MivaClient::call_module(self, module, function, params)
    }
    async fn multicall(&self, operations: &[Operation]) -> Result<Vec<OperationResult>, Error> {
        miva_http::miva::MivaClient::multicall(self, operations)
    }
    async fn multicall_with(
        &self,
        operations: &[Operation],
        options: &CallOptions,
    ) -> Result<Vec<OperationResult>, Error> {
        miva_http::miva::MivaClient::multicall_with(self, operations, options)
    }
    async fn list_each<R>(
        &self,
        request: R,
        opts: ListOpts,
        mut each: impl FnMut(Result<R::Record, Error>) -> bool,
    ) where
        R: ListRequest + Send + Sync + 'static,
        R::Record: Send + 'static,
    {
        let mut records = miva_http::miva::MivaClient::list(self, request);
        if let Some(n) = opts.page_size {
            records = records.page_size(n);
        }
        if let Some(n) = opts.concurrency {
            records = records.concurrency(n);
        }
        if let Some(d) = opts.deadline {
            records = records.deadline(d);
        }
        for item in records {
            if !each(item) {
                break;
            }
        }
    }

    async fn list_each_async<R>(
        &self,
        request: R,
        opts: ListOpts,
        mut each: impl AsyncFnMut(Result<R::Record, Error>) -> bool,
    ) where
        R: ListRequest + Send + Sync + 'static,
        R::Record: Send + 'static,
    {
        let mut records = miva_http::miva::MivaClient::list(self, request);
        if let Some(n) = opts.page_size {
            records = records.page_size(n);
        }
        if let Some(n) = opts.concurrency {
            records = records.concurrency(n);
        }
        if let Some(d) = opts.deadline {
            records = records.deadline(d);
        }
        for item in records {
            if !each(item).await {
                break;
            }
        }
    }
    async fn concurrently<T, F, Fut>(&self, n: usize, work: F) -> Vec<T>
    where
        T: Send + 'static,
        F: Fn(Self) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = T>,
    {
        let work = std::sync::Arc::new(work);
        let threads: Vec<_> = (0..n)
            .map(|_| {
                let (client, work) = (self.clone(), std::sync::Arc::clone(&work));
                std::thread::spawn(move || block_on(work(client)))
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().expect("a worker thread"))
            .collect()
    }
    fn debug(&self) -> String {
        format!("{self:?}")
    }
}

impl Driver for miva_http::tokio::MivaClient {
    const NAME: &'static str = "tokio";

    fn builder(endpoint: &str, credential: Credential) -> MivaClientBuilder<Self> {
        miva_http::tokio::MivaClient::builder(endpoint, credential)
    }
    fn build(builder: MivaClientBuilder<Self>) -> Result<Self, Error> {
        builder.build()
    }
    fn store_code(&self) -> Option<&str> {
        miva_http::tokio::MivaClient::store_code(self)
    }
    fn clock_offset_ms(&self) -> i64 {
        miva_http::tokio::MivaClient::clock_offset_ms(self)
    }
    async fn call<R: MivaRequest + Sync>(&self, request: &R) -> Result<R::Response, Error>
    where
        R::Response: Send,
    {
        miva_http::tokio::MivaClient::call(self, request).await
    }
    async fn call_with<R: MivaRequest + Sync>(
        &self,
        request: &R,
        options: &CallOptions,
    ) -> Result<R::Response, Error>
    where
        R::Response: Send,
    {
        miva_http::tokio::MivaClient::call_with(self, request, options).await
    }
    async fn call_raw(&self, function: &str, params: &Value) -> Result<Value, Error> {
        miva_http::tokio::MivaClient::call_raw(self, function, params).await
    }
    async fn call_raw_with(
        &self,
        function: &str,
        params: &Value,
        options: &CallOptions,
    ) -> Result<Value, Error> {
        miva_http::tokio::MivaClient::call_raw_with(self, function, params, options).await
    }
    async fn call_module(
        &self,
        module: &str,
        function: &str,
        params: &Value,
    ) -> Result<Value, Error> {
        miva_http::tokio::MivaClient::call_module(self, module, function, params).await
    }
    async fn multicall(&self, operations: &[Operation]) -> Result<Vec<OperationResult>, Error> {
        miva_http::tokio::MivaClient::multicall(self, operations).await
    }
    async fn multicall_with(
        &self,
        operations: &[Operation],
        options: &CallOptions,
    ) -> Result<Vec<OperationResult>, Error> {
        miva_http::tokio::MivaClient::multicall_with(self, operations, options).await
    }
    async fn list_each<R>(
        &self,
        request: R,
        opts: ListOpts,
        mut each: impl FnMut(Result<R::Record, Error>) -> bool,
    ) where
        R: ListRequest + Send + Sync + 'static,
        R::Record: Send + 'static,
    {
        let mut records = miva_http::tokio::MivaClient::list(self, request);
        if let Some(n) = opts.page_size {
            records = records.page_size(n);
        }
        if let Some(n) = opts.concurrency {
            records = records.concurrency(n);
        }
        if let Some(d) = opts.deadline {
            records = records.deadline(d);
        }
        while let Some(item) = next(&mut records).await {
            if !each(item) {
                break;
            }
        }
    }

    async fn list_each_async<R>(
        &self,
        request: R,
        opts: ListOpts,
        mut each: impl AsyncFnMut(Result<R::Record, Error>) -> bool,
    ) where
        R: ListRequest + Send + Sync + 'static,
        R::Record: Send + 'static,
    {
        let mut records = miva_http::tokio::MivaClient::list(self, request);
        if let Some(n) = opts.page_size {
            records = records.page_size(n);
        }
        if let Some(n) = opts.concurrency {
            records = records.concurrency(n);
        }
        if let Some(d) = opts.deadline {
            records = records.deadline(d);
        }
        while let Some(item) = next(&mut records).await {
            if !each(item).await {
                break;
            }
        }
    }
    async fn concurrently<T, F, Fut>(&self, n: usize, work: F) -> Vec<T>
    where
        T: Send + 'static,
        F: Fn(Self) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = T>,
    {
        let mut futures: Vec<_> = (0..n).map(|_| Box::pin(work(self.clone()))).collect();
        let mut out: Vec<Option<T>> = (0..n).map(|_| None).collect();
        std::future::poll_fn(|cx| {
            let mut pending = false;
            for (future, slot) in futures.iter_mut().zip(out.iter_mut()) {
                if slot.is_none() {
                    match future.as_mut().poll(cx) {
                        std::task::Poll::Ready(value) => *slot = Some(value),
                        std::task::Poll::Pending => pending = true,
                    }
                }
            }
            if pending {
                std::task::Poll::Pending
            } else {
                std::task::Poll::Ready(())
            }
        })
        .await;
        out.into_iter().flatten().collect()
    }
    fn debug(&self) -> String {
        format!("{self:?}")
    }
}

/// The next item of a stream (no futures-util needed).
pub async fn next<S: futures_core::Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut *stream).poll_next(cx)).await
}

/// Runs `future` to its end on a fresh current-thread runtime (the
/// blocking driver's tests: its calls block this thread, which nothing
/// else needs).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime")
        .block_on(future)
}

/// `both! { async fn name<D>() { body } }`: the body once, as
/// `name::blocking` and `name::tokio`. Attributes before `async fn` (doc
/// comments, `#[ignore]`) go on both tests.
macro_rules! both {
    ($($(#[$meta:meta])* async fn $name:ident<$d:ident>() $body:block)+) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[allow(unused_imports)]
            use crate::driver::Driver as _;

            async fn run<$d: crate::driver::Driver>() $body

            $(#[$meta])*
            #[test]
            fn blocking() {
                crate::driver::block_on(run::<miva_http::miva::MivaClient>());
            }

            $(#[$meta])*
            #[tokio::test]
            async fn tokio() {
                run::<miva_http::tokio::MivaClient>().await;
            }
        }
    )+};
}
