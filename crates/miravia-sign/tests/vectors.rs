//! Known-answer tests. Sources:
//! - "vendor document": `shared/spec/miravia-call-api-with-http.txt`, the
//!   platform's "Call API with HTTP request" page (section 1.1);
//! - "wire-facts": the cross-checked Miravia vectors in
//!   `shared/notes/wire-facts.md`;
//! - "Python": values computed with Python's standard library, as stated at
//!   each use.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may

use miravia_sign::{
    AppSecret, Error, RequestSigner, SignedParams, Timestamp, form_urlencode, percent_encode, sign,
    string_to_sign, verify,
};

const SECRET: &str = "helloworld";
const TIMESTAMP_MS: u64 = 1_517_820_392_000;

/// SYS in wire-facts: access_token=test, app_key=123456, sign_method=sha256,
/// timestamp=1517820392000.
const SYS: [(&str, &str); 4] = [
    ("access_token", "test"),
    ("app_key", "123456"),
    ("sign_method", "sha256"),
    ("timestamp", "1517820392000"),
];

/// P in wire-facts.
const PRODUCT_PAYLOAD: &str = r#"{"Request":{"Product":{"PrimaryCategory":"10002019","Attributes":{"name":"Camiseta algodón ñ","description":"100% algodón & <b>suave</b>"},"Skus":{"Sku":[{"SellerSku":"CAM-01","quantity":"3","price":"9.99"}]}}}}"#;

fn secret() -> AppSecret {
    AppSecret::new(SECRET).unwrap()
}

fn with_sys<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    SYS.iter().chain(extra).copied().collect()
}

/// The SYS signer: RequestSigner with app_key 123456 and access_token test.
fn sys_signer() -> RequestSigner {
    RequestSigner::new("123456", secret())
        .unwrap()
        .with_access_token("test")
        .unwrap()
}

/// Checks one vector through `sign`, `verify` (both hex cases) and, when
/// the params are SYS + business, through `RequestSigner` too.
fn check(path: &str, params: &[(&str, &str)], body: Option<&str>, expected: &str) {
    let secret = secret();
    let signature = sign(&secret, path, params, body).unwrap();
    assert_eq!(signature.to_string(), expected);
    assert_eq!(signature.to_hex(), expected);
    verify(&secret, path, params, body, expected).unwrap();
    verify(&secret, path, params, body, &expected.to_ascii_lowercase()).unwrap();
}

fn check_sys(path: &str, business: &[(&str, &str)], body: Option<&str>, expected: &str) {
    check(path, &with_sys(business), body, expected);
    let signed = sys_signer()
        .sign(path, Timestamp::from_millis(TIMESTAMP_MS), business, body)
        .unwrap();
    assert_eq!(signed.signature().to_string(), expected);
    assert_eq!(signed.get("sign"), Some(expected));
}

// Source: vendor document, section 1.1 steps 4 and 5.
#[test]
fn order_get_document_example() {
    let params = with_sys(&[("order_id", "1234")]);
    assert_eq!(
        string_to_sign("/order/get", &params, None).unwrap(),
        "/order/getaccess_tokentestapp_key123456order_id1234sign_methodsha256timestamp1517820392000"
    );
    check_sys(
        "/order/get",
        &[("order_id", "1234")],
        None,
        "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A",
    );
}

// Source: vendor document, section 1.1 step 1 lists the parameters in this
// (unsorted) order; the signature must not depend on it.
#[test]
fn order_get_document_order() {
    let params = [
        ("app_key", "123456"),
        ("access_token", "test"),
        ("timestamp", "1517820392000"),
        ("sign_method", "sha256"),
        ("order_id", "1234"),
    ];
    check(
        "/order/get",
        &params,
        None,
        "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A",
    );
}

// Source: wire-facts.
#[test]
fn products_get_non_ascii_value() {
    check_sys(
        "/products/get",
        &[("filter", "live"), ("search", "Camiseta algodón ñ")],
        None,
        "23A15CCD6AF746D7D6700F1477B73A11BF80B3BC9804E71DC85D7C517337D435",
    );
}

// Source: wire-facts. Values are signed raw, never URL-encoded.
#[test]
fn products_get_reserved_characters() {
    check_sys(
        "/products/get",
        &[("filter", "live"), ("search", "a b&c=d+e%20f")],
        None,
        "0676DFE601A0A5AC586F1002CE05DF07A212B29776E192149E0F295DB4B5C41E",
    );
}

// Source: wire-facts (the empty `status` is skipped).
#[test]
fn orders_get_empty_value_skipped() {
    let business = [
        ("created_after", "2018-02-10T16:00:00+08:00"),
        ("status", ""),
    ];
    let expected = "DE78FA27BBC7B13CE27C1FD16F01773019EE32F801621ED1D6D2574E8AE9B331";
    check_sys("/orders/get", &business, None, expected);
    // Leaving it out altogether signs the same.
    check_sys("/orders/get", &business[..1], None, expected);
    // And RequestSigner does not send it.
    let signed = sys_signer()
        .sign(
            "/orders/get",
            Timestamp::from_millis(TIMESTAMP_MS),
            business,
            None,
        )
        .unwrap();
    assert_eq!(signed.get("status"), None);
    assert_eq!(
        signed.get("created_after"),
        Some("2018-02-10T16:00:00+08:00")
    );
}

// Source: wire-facts (byte order, not locale order).
#[test]
fn test_api_byte_order() {
    let params = [
        ("B", "2"),
        ("a", "1"),
        ("A", "0"),
        ("_x", "3"),
        ("b", "4"),
        ("item_id", "5"),
        ("item_ids", "6"),
        ("Z9", "7"),
    ];
    assert_eq!(
        string_to_sign("/test/api", params, None).unwrap(),
        "/test/apiA0B2Z97_x3a1b4item_id5item_ids6"
    );
    check(
        "/test/api",
        &params,
        None,
        "08FCAF7A81B3BA18340EE49B952EEAECFCC65B62E99D47645EE28CE2D0AC8DA2",
    );
}

// Source: vendor document, section 5 (sort and concatenation example).
#[test]
fn test_api_document_sort_example() {
    let params = [
        ("foo", "1"),
        ("bar", "2"),
        ("foo_bar", "3"),
        ("foobar", "4"),
    ];
    assert_eq!(
        string_to_sign("/test/api", params, None).unwrap(),
        "/test/apibar2foo1foo_bar3foobar4"
    );
}

// Source: wire-facts.
#[test]
fn auth_token_create() {
    let expected = "35607762342831B6A417A0DED84B79C05FEFBF116969C48AD6DC00279A9F4D81";
    let code = "3_500102_JxZ05Ux3cnnSSUm6dCxYg6Q26";
    check(
        "/auth/token/create",
        &[
            ("app_key", "12345678"),
            ("code", code),
            ("sign_method", "sha256"),
            ("timestamp", "1517820392000"),
        ],
        None,
        expected,
    );
    let signed = RequestSigner::new("12345678", secret())
        .unwrap()
        .sign(
            "/auth/token/create",
            Timestamp::from_millis(TIMESTAMP_MS),
            [("code", code)],
            None,
        )
        .unwrap();
    assert_eq!(signed.signature().to_string(), expected);
    assert_eq!(signed.get("access_token"), None);
}

// Source: wire-facts.
#[test]
fn product_create_payload_as_param() {
    check_sys(
        "/product/create",
        &[("payload", PRODUCT_PAYLOAD)],
        None,
        "B40614A191B311E1945C6790F8C3FCC349AD61600DD4EDC5FB631C6BAE6D3864",
    );
}

// Source: wire-facts.
#[test]
fn product_create_payload_as_body() {
    check_sys(
        "/product/create",
        &[],
        Some(PRODUCT_PAYLOAD),
        "0D3AA86F0F2EB9EB04B73D0499054D4B6ADAB717F8E165007A5874C044BA4459",
    );
    let text = string_to_sign("/product/create", SYS, Some(PRODUCT_PAYLOAD)).unwrap();
    assert!(text.ends_with(PRODUCT_PAYLOAD));
}

// Source: vendor document, section 5 ("except the sign"): a `sign` among the
// parameters changes nothing.
#[test]
fn sign_parameter_is_ignored() {
    let expected = "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A";
    let mut params = with_sys(&[("order_id", "1234")]);
    params.push(("sign", expected));
    check("/order/get", &params, None, expected);
    assert!(
        !string_to_sign("/order/get", &params, None)
            .unwrap()
            .contains(expected)
    );
}

// Source: Python `urllib.parse.quote(v, safe='-._~')` for each input.
#[test]
fn percent_encoding_matches_python_quote() {
    let cases = [
        ("a b&c=d+e%20f", "a%20b%26c%3Dd%2Be%2520f"),
        ("Camiseta algodón ñ", "Camiseta%20algod%C3%B3n%20%C3%B1"),
        (
            "~-._ AZaz09!*'()/?#[]@",
            "~-._%20AZaz09%21%2A%27%28%29%2F%3F%23%5B%5D%40",
        ),
        ("€😀", "%E2%82%AC%F0%9F%98%80"),
        (
            "2018-02-10T16:00:00+08:00",
            "2018-02-10T16%3A00%3A00%2B08%3A00",
        ),
        ("", ""),
    ];
    for (input, expected) in cases {
        assert_eq!(percent_encode(input), expected, "input {input:?}");
    }
    assert_eq!(
        form_urlencode([("search", "a b&c=d+e%20f"), ("na me", "ñ")]),
        "search=a%20b%26c%3Dd%2Be%2520f&na%20me=%C3%B1"
    );
}

// Source: vendor document, section 1.1 (parameters and signature); the
// order (sorted, `sign` last) is this crate's documented choice.
#[test]
fn signed_params_order_and_encoding() {
    let signed = sys_signer()
        .sign(
            "/order/get",
            Timestamp::from_millis(TIMESTAMP_MS),
            [("order_id", "1234")],
            None,
        )
        .unwrap();
    let pairs: Vec<(&str, &str)> = signed.iter().collect();
    assert_eq!(
        pairs,
        [
            ("access_token", "test"),
            ("app_key", "123456"),
            ("order_id", "1234"),
            ("sign_method", "sha256"),
            ("timestamp", "1517820392000"),
            (
                "sign",
                "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A"
            ),
        ]
    );
    assert_eq!(signed.len(), 6);
    assert!(!signed.is_empty());
    assert_eq!(
        signed.to_urlencoded(),
        "access_token=test&app_key=123456&order_id=1234&sign_method=sha256\
         &timestamp=1517820392000\
         &sign=4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A"
    );
    assert_eq!(form_urlencode(signed.business_params()), "order_id=1234");
    assert_eq!(
        form_urlencode(signed.system_params()),
        "access_token=test&app_key=123456&sign_method=sha256&timestamp=1517820392000\
         &sign=4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A"
    );
}

// Redaction: this crate's documented Debug format.
#[test]
fn signed_params_debug_is_redacted() {
    let signed: SignedParams = sys_signer()
        .with_partner_id("partner-1")
        .unwrap()
        .sign(
            "/order/get",
            Timestamp::from_millis(TIMESTAMP_MS),
            [("order_id", "1234")],
            None,
        )
        .unwrap();
    let debug = format!("{signed:?}");
    assert_eq!(
        debug,
        r#"SignedParams { params: {"access_token": <redacted>, "app_key": "123456", "order_id": "1234", "partner_id": "partner-1", "sign_method": "sha256", "timestamp": "1517820392000", "sign": <redacted>} }"#
    );
    assert!(!debug.contains("test"));
    assert!(!debug.contains(&signed.signature().to_string()));
}

#[test]
fn request_signer_debug_is_redacted() {
    let debug = format!("{:?}", sys_signer());
    assert_eq!(
        debug,
        r#"RequestSigner { app_key: "123456", secret: AppSecret(<redacted>), access_token: Some(<redacted>), partner_id: None }"#
    );
}

// partner_id is signed like any other parameter (wire-facts: "SDKs also send
// and sign partner_id"). Expected value: Python
// `hmac.new(b"helloworld", "/order/getaccess_tokentestapp_key123456order_id1234partner_idlazop-sdk-python-20181207sign_methodsha256timestamp1517820392000".encode(), hashlib.sha256).hexdigest().upper()`.
#[test]
fn partner_id_is_signed() {
    let partner = "lazop-sdk-python-20181207";
    let signed = sys_signer()
        .with_partner_id(partner)
        .unwrap()
        .sign(
            "/order/get",
            Timestamp::from_millis(TIMESTAMP_MS),
            [("order_id", "1234")],
            None,
        )
        .unwrap();
    let expected = "5EEE81BBC08DA75A2075FE843CB0E5629409CF5EF272BB7AD92CDF293A43A80C";
    assert_eq!(signed.signature().to_string(), expected);
    let params = with_sys(&[("order_id", "1234"), ("partner_id", partner)]);
    assert_eq!(
        signed.signature(),
        sign(&secret(), "/order/get", &params, None).unwrap()
    );
    assert_eq!(signed.get("partner_id"), Some(partner));
}

fn message(result: Result<impl std::fmt::Debug, Error>) -> String {
    result.unwrap_err().to_string()
}

#[test]
fn errors_name_the_field() {
    let secret = secret();
    let ok = [("a", "1")];

    assert!(message(AppSecret::new("")).contains("app secret is empty"));
    assert!(message(AppSecret::new("helloworld\n")).contains("whitespace"));
    assert!(message(AppSecret::from_string(String::new())).contains("app secret is empty"));

    assert!(message(sign(&secret, "", ok, None)).contains("API path is empty"));
    let no_slash = message(sign(&secret, "order/get", ok, None));
    assert!(
        no_slash.contains("\"order/get\"") && no_slash.contains("'/'"),
        "{no_slash}"
    );
    let query = message(sign(&secret, "/order/get?x=1", ok, None));
    assert!(query.contains("'?'"), "{query}");
    let space = message(sign(&secret, "/order/get ", ok, None));
    assert!(space.contains("U+0020"), "{space}");

    let duplicate = message(sign(
        &secret,
        "/a",
        [("x", "1"), ("y", "2"), ("x", "")],
        None,
    ));
    assert!(
        duplicate.contains("\"x\"") && duplicate.contains("more than once"),
        "{duplicate}"
    );
    assert!(message(sign(&secret, "/a", [("", "1")], None)).contains("empty name"));

    let reserved =
        message(sys_signer().sign("/a", Timestamp::from_millis(0), [("timestamp", "1")], None));
    assert!(
        reserved.contains("\"timestamp\"") && reserved.contains("system parameter"),
        "{reserved}"
    );
    assert!(
        message(sys_signer().sign("/a", Timestamp::from_millis(0), [("sign", "x")], None))
            .contains("\"sign\"")
    );

    assert!(message(RequestSigner::new("", secret.clone())).contains("app_key is empty"));
    assert!(message(sys_signer().with_access_token("")).contains("access_token is empty"));
    assert!(message(sys_signer().with_partner_id("")).contains("partner_id is empty"));

    let short = message(verify(&secret, "/a", ok, None, "ABC"));
    assert!(
        short.contains("3 characters") && short.contains("64"),
        "{short}"
    );
    let not_hex = message(verify(&secret, "/a", ok, None, &"G".repeat(64)));
    assert!(not_hex.contains("position 1"), "{not_hex}");
    let non_ascii = message(verify(
        &secret,
        "/a",
        ok,
        None,
        &format!("{}é", "A".repeat(63)),
    ));
    assert!(non_ascii.contains("position 64"), "{non_ascii}");
}

#[test]
fn mismatch_is_reported_as_such() {
    let secret = secret();
    let params = with_sys(&[("order_id", "1234")]);
    let good = "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A";
    let wrong_secret = AppSecret::new("hellowOrld").unwrap();
    let error = verify(&wrong_secret, "/order/get", &params, None, good).unwrap_err();
    assert!(error.is_signature_mismatch());
    assert!(error.to_string().contains("does not match"));
    // The wrong path prefix the notes warn about.
    let error = verify(&secret, "/rest/order/get", &params, None, good).unwrap_err();
    assert!(error.is_signature_mismatch());
    // Malformed input is not a mismatch.
    assert!(
        !verify(&secret, "/order/get", &params, None, "00")
            .unwrap_err()
            .is_signature_mismatch()
    );
    // Nothing secret leaks into messages.
    assert!(!error.to_string().contains(SECRET));
}

#[test]
fn timestamps() {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};
    let t = UNIX_EPOCH + Duration::from_millis(TIMESTAMP_MS);
    assert_eq!(
        Timestamp::from_system_time(t).unwrap(),
        Timestamp::from_millis(TIMESTAMP_MS)
    );
    assert_eq!(Timestamp::try_from(t).unwrap().as_millis(), TIMESTAMP_MS);
    assert_eq!(
        Timestamp::from_millis(TIMESTAMP_MS).to_string(),
        "1517820392000"
    );
    let before = UNIX_EPOCH - Duration::from_millis(1);
    assert!(message(Timestamp::from_system_time(before)).contains("before 1970"));
    assert!(Timestamp::from_system_time(SystemTime::now()).is_ok());
}
