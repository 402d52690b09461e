//! Both Miravia clients (the blocking `miva_http::miravia::MiraviaClient`
//! and, with the `tokio` feature, the async `miva_http::tokio::MiraviaClient`)
//! over real HTTP on loopback, from one source: every test is written once
//! with `both_miravia!` and runs on each driver (`cargo test name::` runs both; a
//! failure names `blocking` or `tokio`). The gateway is the minimal one in
//! `common/miravia_driver.rs` (signatures checked with
//! `miravia_sign::verify`, answers in the platform's shapes), and
//! `miva_mock`'s gateway for the clock-skew retry. What only the async
//! client has is in `async_miravia.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

#[path = "common/miravia_driver.rs"]
#[macro_use]
mod miravia_driver;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use miravia_driver::{
    APP_KEY, NOW_MS, SECRET, calls_to, client, fast_retries, fixed_clock, gateway,
    repeating_gateway,
};
use miravia_sign::AppSecret;
use miva_http::miravia::{FilePart, Gateway, Method, PageSpec, Token};
use miva_http::{Error, TimeoutKind};
use miva_mock::ManualClock;
use miva_mock::miravia::{MiraviaConfig, MiraviaGateway};

both_miravia! {
    async fn get_and_post_are_signed_and_decoded<D>() {
        let gw = gateway(NOW_MS);
        let c = D::build(client::<D>(&gw).access_token("tok")).unwrap();
        let seller = c
            .get(
                "/seller/get",
                &[("filter", "a b&c=d+e%20f ñ"), ("empty", "")],
            )
            .await
            .unwrap();
        assert_eq!(seller["data"]["name"], "Tienda");
        let seller = c.post("/seller/get", &[("filter", "ñ")]).await.unwrap();
        assert_eq!(seller["data"]["seller_id"], 7);
        let seen = gw.seen.lock().unwrap().clone();
        assert_eq!(seen[0].method, "GET");
        assert_eq!(seen[0].params["filter"], "a b&c=d+e%20f ñ");
        assert!(
            !seen[0].params.contains_key("empty"),
            "empty values are not sent"
        );
        assert_eq!(seen[0].params["timestamp"], NOW_MS.to_string());
        assert_eq!(seen[0].params["sign_method"], "sha256");
        assert_eq!(seen[0].params["access_token"], "tok");
        assert_eq!(
            seen[0].params["partner_id"],
            miva_http::miravia::DEFAULT_PARTNER_ID
        );
        assert_eq!(seen[1].method, "POST");
        assert_eq!(seen[1].content_type, "application/x-www-form-urlencoded");
    }

    async fn multipart_files_are_sent_but_not_signed<D>() {
        let gw = gateway(NOW_MS);
        let c = D::build(client::<D>(&gw).access_token("tok")).unwrap();
        let image: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        let file = FilePart::new("image", "a.jpg", image.clone());
        c.call(
            Method::Post,
            "/image/upload",
            &[("note", "x")],
            std::slice::from_ref(&file),
        )
        .await
        .unwrap();
        let seen = gw.seen.lock().unwrap().clone();
        assert!(
            seen[0]
                .content_type
                .starts_with("multipart/form-data; boundary=")
        );
        assert_eq!(seen[0].files, vec![("image".to_owned(), image)]);
        assert_eq!(seen[0].params["note"], "x");
        let err = c
            .call(Method::Get, "/image/upload", &[], &[file])
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err}");
        assert_eq!(calls_to(&gw, "/image/upload"), 1, "refused before sending");
    }

    async fn platform_errors_are_typed<D>() {
        let gw = gateway(NOW_MS);
        let wrong = D::build(
            D::builder(
                Gateway::Custom(gw.url.clone()),
                APP_KEY,
                AppSecret::new("other").unwrap(),
            )
            .clock(fixed_clock),
        )
        .unwrap();
        match wrong.get("/seller/get", &[]).await.unwrap_err() {
            Error::Miravia(e) => {
                assert_eq!(e.code, "IncompleteSignature");
                assert_eq!(e.error_type.as_deref(), Some("ISV"));
                assert_eq!(e.request_id.as_deref(), Some("r2"));
                assert_eq!(
                    e.to_string(),
                    "IncompleteSignature: The request signature does not conform to platform standards (r2)"
                );
            }
            other => panic!("{other}"),
        }
        let c = D::build(client::<D>(&gw)).unwrap();
        match c.get("/nope", &[]).await.unwrap_err() {
            Error::Miravia(e) => assert_eq!(e.code, "InvalidApi"),
            other => panic!("{other}"),
        }
        let late =
            D::build(client::<D>(&gw).clock(|| fixed_clock() + Duration::from_secs(7300))).unwrap();
        match late.get("/seller/get", &[]).await.unwrap_err() {
            Error::Miravia(e) => assert_eq!(e.code, "InvalidTimestamp"),
            other => panic!("{other}"),
        }
    }

    async fn tokens_create_refresh_and_auto_refresh_once<D>() {
        let gw = gateway(NOW_MS);
        let c = D::build(client::<D>(&gw)).unwrap();
        let token = c.create_token("auth-code").await.unwrap();
        assert_eq!(token.access_token(), "access-0");
        assert_eq!(token.refresh_token(), Some("refresh-0"));
        assert_eq!(
            token.expires_at,
            Some(fixed_clock() + Duration::from_secs(3600))
        );
        assert_eq!(token.details["country"], "es");
        assert!(!format!("{token:?}").contains("access-0"));
        assert!(c.token().is_none(), "a created token is not installed");
        let seen = gw.seen.lock().unwrap().clone();
        assert_eq!(seen[0].path, "/auth/token/create");
        assert_eq!(seen[0].params["code"], "auth-code");
        assert!(!seen[0].params.contains_key("access_token"));

        // A token about to expire is refreshed once, whatever the number
        // of threads: each call on its own thread (a blocking-pool thread
        // driving the future; the async client's I/O is driven by this
        // runtime meanwhile).
        let refreshed = Arc::new(Mutex::new(Vec::new()));
        let record = refreshed.clone();
        let expiring = Token::new(
            "old",
            Some("refresh-old"),
            Some(fixed_clock() + Duration::from_secs(60)),
        );
        let c = D::build(
            client::<D>(&gw)
                .token(expiring)
                .auto_refresh(Duration::from_secs(300))
                .on_refresh(move |t| {
                    record.lock().unwrap().push((
                        t.access_token().to_owned(),
                        t.refresh_token().map(str::to_owned),
                        t.expires_at,
                    ));
                }),
        )
        .unwrap();
        let before = gw.refreshes.load(Ordering::SeqCst);
        let runtime = tokio::runtime::Handle::current();
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (c, runtime) = (c.clone(), runtime.clone());
                tokio::task::spawn_blocking(move || {
                    runtime.block_on(async move { c.get("/needs/token", &[]).await.unwrap() })
                })
            })
            .collect();
        for h in handles {
            let answer = h.await.unwrap();
            assert_eq!(answer["data"]["token"], format!("access-{before}"));
        }
        assert_eq!(gw.refreshes.load(Ordering::SeqCst), before + 1);
        let refresh_call = gw
            .seen
            .lock()
            .unwrap()
            .iter()
            .find(|s| s.path == "/auth/token/refresh")
            .cloned()
            .unwrap();
        assert_eq!(refresh_call.params["refresh_token"], "refresh-old");
        // The callback got the new token, once; it is installed.
        let new = format!("access-{before}");
        assert_eq!(
            *refreshed.lock().unwrap(),
            [(
                new.clone(),
                Some(format!("refresh-{before}")),
                Some(fixed_clock() + Duration::from_secs(3600))
            )]
        );
        assert_eq!(c.token().unwrap().access_token(), new);
        assert_eq!(
            c.token().unwrap().refresh_expires_at,
            Some(fixed_clock() + Duration::from_secs(7200))
        );
        // An explicit refresh is reported too (not installed).
        let explicit = c.refresh_token(&format!("refresh-{before}")).await.unwrap();
        assert_eq!(explicit.access_token(), format!("access-{}", before + 1));
        assert_eq!(refreshed.lock().unwrap().len(), 2);
        assert_eq!(c.token().unwrap().access_token(), new);
    }

    async fn a_token_set_is_sent_and_a_token_cleared_is_not<D>() {
        let gw = gateway(NOW_MS);
        let c = D::build(client::<D>(&gw)).unwrap();
        match c.get("/needs/token", &[]).await.unwrap_err() {
            Error::Miravia(e) => assert_eq!(e.code, "MissingAccessToken"),
            other => panic!("{other}"),
        }
        c.set_token(Some(Token::new("set-later", None, None)));
        assert_eq!(c.token().unwrap().access_token(), "set-later");
        let answer = c.get("/needs/token", &[]).await.unwrap();
        assert_eq!(answer["data"]["token"], "set-later");
        // Every clone shares the one token.
        let clone = c.clone();
        clone.set_token(None);
        assert!(c.token().is_none());
        assert!(c.get("/needs/token", &[]).await.is_err());
        assert_eq!(calls_to(&gw, "/needs/token"), 3);
    }

    async fn an_expired_token_that_cannot_be_refreshed_is_never_sent<D>() {
        let gw = gateway(NOW_MS);
        let dead = Token::new(
            "dead-access",
            Some("dead-refresh"),
            Some(fixed_clock() - Duration::from_secs(10)),
        )
        .with_refresh_expires_at(Some(fixed_clock() - Duration::from_secs(5)));
        let c = D::build(
            client::<D>(&gw)
                .token(dead)
                .auto_refresh(Duration::from_secs(300)),
        )
        .unwrap();
        let error = c.get("/needs/token", &[]).await.unwrap_err();
        let Error::Config(message) = &error else {
            panic!("{error:?}")
        };
        assert!(message.contains("authorize the app again"), "{message}");
        assert!(!message.contains("dead-"), "{message}");
        assert!(gw.seen.lock().unwrap().is_empty(), "nothing was sent");
    }

    async fn pagination_yields_every_record_once_in_order<D>() {
        let gw = gateway(NOW_MS);
        let c = D::build(client::<D>(&gw)).unwrap();
        // 0 is taken as 1.
        for concurrency in [0, 1, 4] {
            for page_size in [1, 5, 10, 23, 50] {
                let ids: Vec<u64> = c
                    .paginate_all(
                        "/products/get",
                        &[("filter", "live")],
                        PageSpec::products(),
                        page_size,
                        None,
                        concurrency,
                    )
                    .await
                    .into_iter()
                    .map(|r| r.unwrap()["item_id"].as_u64().unwrap())
                    .collect();
                assert_eq!(
                    ids,
                    (0..23).collect::<Vec<_>>(),
                    "page size {page_size}, concurrency {concurrency}"
                );
            }
        }
        assert!(
            gw.seen.lock().unwrap().iter().all(|s| s.params["filter"] == "live"),
            "every page carries the parameters"
        );
    }

    async fn a_gateway_that_ignores_offset_ends_the_pages_with_a_page_error<D>() {
        let url = repeating_gateway();
        let c = D::build(D::builder(
            Gateway::Custom(url),
            APP_KEY,
            AppSecret::new(SECRET).unwrap(),
        ))
        .unwrap();
        let items = c
            .paginate_all("/products/get", &[], PageSpec::products(), 10, None, 1)
            .await;
        assert_eq!(items.len(), 11, "10 records, then the error, then the end");
        for (i, item) in items[..10].iter().enumerate() {
            assert_eq!(item.as_ref().unwrap()["item_id"], i);
        }
        let error = items[10].as_ref().unwrap_err();
        let Error::Page {
            function, offset, ..
        } = error
        else {
            panic!("{error:?}")
        };
        assert_eq!((function.as_str(), *offset), ("/products/get", 10));
        let Error::Pagination { reason, .. } = error.root() else {
            panic!("{:?}", error.root())
        };
        assert!(reason.contains("same records"), "{reason}");
        // The page cap.
        let gw = gateway(NOW_MS);
        let c = D::build(client::<D>(&gw)).unwrap();
        let capped = c
            .paginate_all(
                "/products/get",
                &[],
                PageSpec::products().max_pages(2),
                5,
                None,
                1,
            )
            .await;
        assert_eq!(capped.len(), 11);
        assert!(
            capped[10]
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains("2 pages")
        );
    }

    async fn an_export_deadline_cuts_off_the_page_in_flight<D>() {
        // 300 ms a page; the export may take 500 ms: the first page, then
        // the second cut off in flight.
        let gw = gateway(NOW_MS);
        let c = D::build(client::<D>(&gw)).unwrap();
        let limit = Duration::from_millis(500);
        let started = std::time::Instant::now();
        let items = c
            .paginate_all("/slow/products", &[], PageSpec::products(), 5, Some(limit), 1)
            .await;
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
        assert_eq!(items.len(), 6, "5 records, then the error, then the end");
        for (i, item) in items[..5].iter().enumerate() {
            assert_eq!(item.as_ref().unwrap()["item_id"], i);
        }
        let error = items[5].as_ref().unwrap_err();
        let Error::Page {
            function, offset, ..
        } = error
        else {
            panic!("{error:?}")
        };
        assert_eq!((function.as_str(), *offset), ("/slow/products", 5));
        let Error::Timeout { kind, limit: l } = error.root() else {
            panic!("{:?}", error.root())
        };
        assert_eq!(*kind, TimeoutKind::ExportDeadline);
        assert_eq!(*l, limit);
        assert_eq!(calls_to(&gw, "/slow/products"), 2);
    }

    async fn plain_http_is_refused_off_loopback_and_secrets_stay_out_of_debug<D>() {
        let err = D::build(D::builder(
            Gateway::Custom("http://api.example.com/rest".into()),
            APP_KEY,
            AppSecret::new(SECRET).unwrap(),
        ))
        .unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err}");
        let gw = gateway(NOW_MS);
        let c = D::build(client::<D>(&gw).access_token("very-secret-token")).unwrap();
        let shown = format!("{c:?} {:?}", c.token());
        assert!(
            !shown.contains("very-secret-token") && !shown.contains(SECRET),
            "{shown}"
        );
        assert!(shown.starts_with("MiraviaClient {"), "{} {shown}", D::NAME);
        assert_eq!(Gateway::MiraviaEs.base_url(), "https://api.miravia.es/rest");
        assert_eq!(Gateway::LazadaTh.token_gateway(), Gateway::LazadaAuth);
    }

    async fn app_call_limit_is_retried_when_a_policy_is_set<D>() {
        let gw = gateway(NOW_MS);
        let plain = D::build(client::<D>(&gw)).unwrap();
        match plain.get("/flaky/limit", &[]).await {
            Err(error @ Error::Miravia(_)) => {
                assert!(error.is_rate_limited(), "{error}");
                let Error::Miravia(e) = error else { unreachable!() };
                assert_eq!(e.code, "AppCallLimit");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(calls_to(&gw, "/flaky/limit"), 1, "no policy, no retry");
        let gw = gateway(NOW_MS);
        let retrying = D::build(client::<D>(&gw).retry(fast_retries(3))).unwrap();
        let answer = retrying.get("/flaky/limit", &[]).await.unwrap();
        assert_eq!(answer["data"]["attempt"], 3);
        // Each attempt was signed on its own.
        let seen = gw.seen.lock().unwrap();
        assert!(seen.iter().all(|s| s.params.contains_key("sign")));
    }

    async fn system_errors_are_retried_for_get_only<D>() {
        let gw = gateway(NOW_MS);
        let client = D::build(client::<D>(&gw).retry(fast_retries(2))).unwrap();
        match client.get("/flaky/system", &[]).await {
            Err(Error::Miravia(e)) => {
                assert_eq!(e.error_type.as_deref(), Some("SYSTEM"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            calls_to(&gw, "/flaky/system"),
            3,
            "the first and two retries"
        );
        // A POST may have written something: sent once.
        assert!(
            client
                .post("/flaky/system", &[("payload", "{}")])
                .await
                .is_err()
        );
        assert_eq!(calls_to(&gw, "/flaky/system"), 4, "a POST is sent once");
        // A signature error is never retried.
        let wrong = D::build(
            D::builder(
                Gateway::Custom(gw.url.clone()),
                APP_KEY,
                AppSecret::new("another-secret").unwrap(),
            )
            .clock(fixed_clock)
            .retry(fast_retries(2)),
        )
        .unwrap();
        assert!(wrong.get("/seller/get", &[]).await.is_err());
        assert_eq!(calls_to(&gw, "/seller/get"), 1);
    }

    async fn a_refused_timestamp_is_corrected_from_the_date_header_once<D>() {
        // miva_mock's gateway, as crates/miva-mock/tests/miravia.rs uses it.
        const NOW: i64 = 1_700_000_000;
        const TOKEN: &str = "mock-access-token";
        let gw = MiraviaGateway::start(
            MiraviaConfig::new(APP_KEY, AppSecret::new(SECRET).unwrap())
                .with_access_token(TOKEN)
                .with_clock(Arc::new(ManualClock::new(NOW))),
        )
        .unwrap();
        let clock = || SystemTime::UNIX_EPOCH + Duration::from_secs(NOW.unsigned_abs());
        let late = D::build(
            D::builder(
                Gateway::Custom(gw.url().to_owned()),
                APP_KEY,
                AppSecret::new(SECRET).unwrap(),
            )
            .access_token(TOKEN)
            .clock(move || clock() + Duration::from_secs(7201)),
        )
        .unwrap();
        assert_eq!(late.clock_offset_ms(), 0);
        assert!(late.get("/seller/get", &[]).await.is_ok());
        assert_eq!(late.clock_offset_ms(), -7_201_000);
        // A clock that keeps running away is refused after the one retry.
        let readings = Arc::new(AtomicUsize::new(0));
        let drifting = D::build(
            D::builder(
                Gateway::Custom(gw.url().to_owned()),
                APP_KEY,
                AppSecret::new(SECRET).unwrap(),
            )
            .access_token(TOKEN)
            .clock(move || {
                let n = readings.fetch_add(1, Ordering::Relaxed) as u64 + 1;
                clock() + Duration::from_secs(3 * 3600 * n)
            }),
        )
        .unwrap();
        match drifting.get("/seller/get", &[]).await.unwrap_err() {
            Error::Miravia(e) => assert_eq!(e.code, "InvalidTimestamp"),
            other => panic!("{other}"),
        }
    }
}

/// The ids of `items`, all of which must be records.
fn ids(items: &[Result<serde_json::Value, Error>]) -> Vec<u64> {
    items
        .iter()
        .map(|r| r.as_ref().unwrap()["item_id"].as_u64().unwrap())
        .collect()
}

/// The offsets `gw` was asked for on `path`, in order.
fn offsets_asked(gw: &miravia_driver::Gw, path: &str) -> Vec<u64> {
    let mut offsets: Vec<u64> = gw
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.path == path)
        .map(|s| s.params["offset"].parse().unwrap())
        .collect();
    offsets.sort_unstable();
    offsets
}

both_miravia! {
    /// k pages in flight: every record once, in order; the gateway really
    /// answers several at once, never more than k, each page asked once,
    /// none past the total.
    async fn pages_in_flight_give_every_record_once_in_order<D>() {
        let gw = gateway(NOW_MS);
        let c = D::build(client::<D>(&gw)).unwrap();
        let items = c
            .paginate_all(
                "/counted/products",
                &[("filter", "live")],
                PageSpec::products(),
                2,
                None,
                3,
            )
            .await;
        assert_eq!(ids(&items), (0..23).collect::<Vec<_>>(), "{}", D::NAME);
        let most = gw.max_in_flight.load(Ordering::SeqCst);
        assert!((2..=3).contains(&most), "{}: {most} in flight at most", D::NAME);
        assert_eq!(
            offsets_asked(&gw, "/counted/products"),
            (0..23).step_by(2).collect::<Vec<_>>()
        );
        assert!(
            gw.seen.lock().unwrap().iter().all(|s| s.params["filter"] == "live"),
            "every page carries the parameters"
        );
        // Far more in flight than pages left: no more than are left, and
        // nothing past the total.
        let gw = gateway(NOW_MS);
        let c = D::build(client::<D>(&gw)).unwrap();
        let items = c
            .paginate_all(
                "/counted/products",
                &[],
                PageSpec::products(),
                5,
                None,
                miva_http::miravia::MAX_CONCURRENCY,
            )
            .await;
        assert_eq!(ids(&items), (0..23).collect::<Vec<_>>(), "{}", D::NAME);
        assert!(gw.max_in_flight.load(Ordering::SeqCst) <= 4, "{}", D::NAME);
        assert_eq!(offsets_asked(&gw, "/counted/products"), [0, 5, 10, 15, 20]);
    }

    /// Later pages answered first (the first page slowest): still in order.
    async fn a_gateway_answering_out_of_order_still_gives_order<D>() {
        let gw = gateway(NOW_MS);
        let c = D::build(client::<D>(&gw)).unwrap();
        let items = c
            .paginate_all("/shuffled/products", &[], PageSpec::products(), 5, None, 4)
            .await;
        assert_eq!(ids(&items), (0..23).collect::<Vec<_>>(), "{}", D::NAME);
        assert!(gw.max_in_flight.load(Ordering::SeqCst) >= 2, "{}", D::NAME);
        assert_eq!(calls_to(&gw, "/shuffled/products"), 5);
    }

    /// The page at offset 10 fails while later pages have arrived: every
    /// record before it once, then its error, then the end.
    async fn a_page_failing_mid_way_gives_every_earlier_record_once_then_its_error<D>() {
        for (concurrency, requests) in [(1, 3), (4, 5)] {
            let gw = gateway(NOW_MS);
            let c = D::build(client::<D>(&gw)).unwrap();
            let items = c
                .paginate_all(
                    "/failing/products",
                    &[],
                    PageSpec::products(),
                    5,
                    None,
                    concurrency,
                )
                .await;
            assert_eq!(items.len(), 11, "{} k={concurrency}: 10 records, the error", D::NAME);
            assert_eq!(ids(&items[..10]), (0..10).collect::<Vec<_>>());
            let error = items[10].as_ref().unwrap_err();
            let Error::Page {
                function, offset, ..
            } = error
            else {
                panic!("{error:?}")
            };
            assert_eq!((function.as_str(), *offset), ("/failing/products", 10));
            let Error::Miravia(e) = error.root() else {
                panic!("{:?}", error.root())
            };
            assert_eq!(e.code, "InvalidOffset");
            assert_eq!(calls_to(&gw, "/failing/products"), requests, "k={concurrency}");
        }
    }

    /// Without a total the end is unknown: one page at a time, whatever
    /// the concurrency.
    async fn no_total_endpoints_stay_one_page_at_a_time<D>() {
        let gw = gateway(NOW_MS);
        let c = D::build(client::<D>(&gw)).unwrap();
        let items = c
            .paginate_all("/untotalled/products", &[], PageSpec::products(), 5, None, 8)
            .await;
        assert_eq!(ids(&items), (0..23).collect::<Vec<_>>(), "{}", D::NAME);
        assert_eq!(gw.max_in_flight.load(Ordering::SeqCst), 1, "{}", D::NAME);
        assert_eq!(offsets_asked(&gw, "/untotalled/products"), [0, 5, 10, 15, 20]);
    }

    /// The export deadline bounds every page in flight: they are all cut
    /// off, and the error names the first page due.
    async fn an_export_deadline_cuts_off_every_page_in_flight<D>() {
        let gw = gateway(NOW_MS);
        let c = D::build(client::<D>(&gw)).unwrap();
        let limit = Duration::from_millis(500);
        let started = std::time::Instant::now();
        let items = c
            .paginate_all("/slow/products", &[], PageSpec::products(), 5, Some(limit), 4)
            .await;
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
        assert_eq!(items.len(), 6, "{}: 5 records, then the error", D::NAME);
        assert_eq!(ids(&items[..5]), (0..5).collect::<Vec<_>>());
        let error = items[5].as_ref().unwrap_err();
        assert!(matches!(error, Error::Page { offset: 5, .. }), "{error:?}");
        let Error::Timeout { kind, limit: l } = error.root() else {
            panic!("{:?}", error.root())
        };
        assert_eq!(*kind, TimeoutKind::ExportDeadline);
        assert_eq!(*l, limit);
        assert_eq!(calls_to(&gw, "/slow/products"), 5);
    }

    /// More than `MAX_CONCURRENCY` pages in flight is refused before
    /// anything is sent.
    async fn concurrency_above_the_maximum_is_refused_before_anything_is_sent<D>() {
        let gw = gateway(NOW_MS);
        let c = D::build(client::<D>(&gw)).unwrap();
        let items = c
            .paginate_all(
                "/products/get",
                &[],
                PageSpec::products(),
                5,
                None,
                miva_http::miravia::MAX_CONCURRENCY + 1,
            )
            .await;
        assert_eq!(items.len(), 1, "{}", D::NAME);
        let error = items[0].as_ref().unwrap_err();
        let Error::Config(message) = error else {
            panic!("{error:?}")
        };
        assert!(message.contains("65") && message.contains("64"), "{message}");
        assert!(gw.seen.lock().unwrap().is_empty(), "nothing was sent");
    }
}
