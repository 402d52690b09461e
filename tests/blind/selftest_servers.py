#!/usr/bin/env python3
"""Self-test of the two blind servers with small Python clients (no `miva`).

Checks the servers against the vectors in the vendor documents and the
wire-facts page, then drives them over HTTP with hand-signed requests.
Prints `ok NAME` / `FAIL NAME: why` and `N passed, M failed`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import miravia_gateway  # noqa: E402
import miva_store  # noqa: E402

RESULTS = []


def check(name, cond, why=""):
    RESULTS.append(bool(cond))
    print(f"ok {name}" if cond else f"FAIL {name}: {why}", flush=True)


def start(script, *args):
    p = subprocess.Popen([sys.executable, os.path.join(HERE, script), *args],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = p.stdout.readline().strip()
    if not url.startswith("http://"):
        p.kill()
        raise RuntimeError(f"{script} did not print its URL: {url!r} {p.stderr.read()}")
    return p, url


def http(url, data=None, headers=None, method=None, timeout=10):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


# ---------------------------------------------------------------------------
# Miva


def miva_header(token, key, body, digest="sha256"):
    if digest == "none":
        return f"MIVA {token}"
    k = base64.b64decode(key + "=" * (-len(key) % 4))
    algo = hashlib.sha256 if digest == "sha256" else hashlib.sha1
    sig = base64.b64encode(hmac.new(k, body, algo).digest()).decode()
    return f"MIVA-HMAC-{digest.upper()} {token}:{sig}"


def miva_vectors():
    # wire-facts.md "Cross-checked vectors"
    token = "0f90f77b58ca98836eba3d50f526f523"
    key = "NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ"
    body = (b'{"Store_Code": "STORE", "Sort": "", "Offset": 0, "Count": 1, "Filter": [], '
            b'"Function": "ProductList_Load_Query", "Miva_Request_Timestamp": 1700000000}')
    check("miva vector body is 150 bytes", len(body) == 150, str(len(body)))
    h256 = miva_header(token, key, body)
    h1 = miva_header(token, key, body, "sha1")
    check("miva vector sha256", h256.endswith(":T7hwEUfGBqcRGS9SCHYlMXjgZwiNrzPNX88imOkxlV4="), h256)
    check("miva vector sha1", h1.endswith(":dgXYBcEflR0jR73czk9cMtmcHTc="), h1)
    st = miva_store.Store("STORE", 3, [{"token": token, "signing_key": key}])
    try:
        st.authenticate(h256, body)
        st.authenticate(h1, body)
        ok = True
    except miva_store.ApiError as e:
        ok = e.payload
    check("miva store accepts vector signatures", ok is True, ok)
    try:
        st.authenticate(h256, body + b" ")
        ok = False
    except miva_store.ApiError as e:
        ok = e.payload["error_message"] == "Invalid request signature"
    check("miva store refuses a changed body", ok)


def miva_http():
    tmp = tempfile.mkdtemp()
    key = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    cfg = {"store_code": "SELF", "tokens": [
        {"token": "selftest" + secrets.token_hex(8), "signing_key": key, "require_timestamp": True},
        {"token": "plain" + secrets.token_hex(8), "signing_key": None, "require_timestamp": True}]}
    path = os.path.join(tmp, "c.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    p, url = start("miva_store.py", "--products", "30", "--config", path)
    tok, ptok = cfg["tokens"][0]["token"], cfg["tokens"][1]["token"]
    try:
        def call(req, digest="sha256", token=tok, k=key, ts=True, ctype="application/json",
                 header_name="X-Miva-API-Authorization", raw=False):
            req = dict(req)
            if ts is True:
                req["Miva_Request_Timestamp"] = int(time.time())
            elif ts is not None:
                req["Miva_Request_Timestamp"] = ts
            body = json.dumps(req).encode()
            h = {"Content-Type": ctype}
            if header_name:
                h[header_name] = miva_header(token, k, body, digest)
            st, out = http(url, body, h)
            return out if raw else json.loads(out)

        r = call({"Function": "ProductList_Load_Query", "Store_Code": "SELF", "Count": 5})
        check("miva list count", r["success"] is True and [x["id"] for x in r["data"]["data"]] == [1, 2, 3, 4, 5]
              and r["data"]["total_count"] == 30 and "descrip" not in r["data"]["data"][0], r)
        r = call({"Function": "ProductList_Load_Query", "Store_Code": "SELF", "Count": 4, "Offset": 28})
        check("miva list offset tail", [x["id"] for x in r["data"]["data"]] == [29, 30]
              and r["data"]["start_offset"] == 28, r)
        r = call({"Function": "ProductList_Load_Query", "Store_Code": "SELF", "Sort": "-price"})
        prices = [x["price"] for x in r["data"]["data"]]
        check("miva sort -price", prices == sorted(prices, reverse=True) and len(prices) == 30, prices)
        r = call({"Function": "ProductList_Load_Query", "Store_Code": "SELF", "Filter": [
            # Separate search filters are ANDed (side by side in one, ORed).
            {"name": "search", "value": [{"field": "price", "operator": "GT", "value": "40"}]},
            {"name": "search", "value": [{"field": "code", "operator": "LIKE", "value": "%-00%"}]},
            {"name": "ondemandcolumns", "value": ["descrip"]}]})
        want = [x["id"] for x in miva_store.make_products(30) if x["price"] > 40]
        got = [x["id"] for x in r["data"]["data"]]
        check("miva filter GT+LIKE, ondemand", got == want and all("descrip" in x for x in r["data"]["data"]),
              (got, want))
        codes = [miva_store.product_code(i) for i in (3, 9, 12)]
        r = call({"Function": "ProductList_Load_Query", "Store_Code": "SELF", "Filter": [
            {"name": "search", "value": [{"field": "code", "operator": "IN", "value": ",".join(codes)}]}]})
        check("miva filter IN", [x["id"] for x in r["data"]["data"]] == [3, 9, 12], r)
        r = call({"Function": "ProductList_Load_Query", "Store_Code": "SELF", "Filter": [
            {"name": "search", "value": [{"field": "id", "operator": "LT", "value": 3},
                                         {"field": "search_OR", "operator": "SUBWHERE", "value": [
                                             {"field": "id", "operator": "EQ", "value": "20"}]}]}]})
        check("miva filter LT OR EQ (SUBWHERE)", [x["id"] for x in r["data"]["data"]] == [1, 2, 20], r)
        r = call({"Function": "Product_Update", "Store_Code": "SELF",
                  "Edit_Product": miva_store.product_code(4), "Product_Price": 12.25})
        r2 = call({"Function": "ProductList_Load_Query", "Store_Code": "SELF", "Filter": [
            {"name": "search", "value": [{"field": "id", "operator": "EQ", "value": "4"}]}]})
        check("miva update by code", r["success"] == 1 and r2["data"]["data"][0]["price"] == 12.25, (r, r2))
        r = call({"Function": "Product_Update", "Store_Code": "SELF", "Product_ID": 5, "Product_Price": "abc"})
        check("miva validation error shape",
              r.get("success") == 0 and r.get("validation_error") is True
              and r.get("error_field") == "Product_Price" and r.get("error_code") == "MER-JSN-00018", r)
        r = call({"Function": "StoreList_Load_Query"})
        check("miva StoreList without Store_Code", r["success"] == 1 and r["data"]["data"][0]["code"] == "SELF", r)
        r = call({"Function": "ProductList_Load_Query", "Store_Code": "SELF"}, digest="sha1")
        check("miva sha1", r["success"] is True, r)
        r = call({"Function": "ProductList_Load_Query", "Store_Code": "SELF"}, token=ptok, digest="none")
        check("miva token only", r["success"] is True, r)
        r = call({"Function": "ProductList_Load_Query", "Store_Code": "SELF"}, digest="none")
        check("miva plain header for signed token", r.get("error_message") == "Invalid request signature", r)
        bad = base64.b64encode(secrets.token_bytes(32)).decode()
        r = call({"Function": "ProductList_Load_Query", "Store_Code": "SELF"}, k=bad)
        check("miva wrong key", r == {"success": 0, "error_code": "access_denied",
                                      "error_message": "Invalid request signature"}, r)
        r = call({"Function": "ProductList_Load_Query", "Store_Code": "SELF"}, token="nope")
        check("miva wrong token", r.get("error_message") == "Access denied", r)
        r = call({"Function": "ProductList_Load_Query", "Store_Code": "SELF"}, ts=None)
        check("miva missing timestamp", r.get("error_message") == "Missing required timestamp", r)
        r = call({"Function": "ProductList_Load_Query", "Store_Code": "SELF"}, ts=int(time.time()) - 45)
        check("miva old timestamp", r.get("error_message") == "Timestamp outside configured window", r)
        r = call({"Function": "ProductList_Load_Query", "Store_Code": "SELF"}, ts=str(int(time.time())))
        check("miva string timestamp", r.get("success") is True, r)
        r = call({"Function": "ProductList_Load_Query", "Store_Code": "SELF"}, ctype="text/plain")
        check("miva content type", r.get("error_message") == "Invalid request content type", r)
        r = call({"Function": "ProductList_Load_Query", "Store_Code": "SELF"}, header_name=None, raw=True)
        check("miva no header: empty body", r == b"", r)
        r = call({"Function": "ProductList_Load_Query", "Store_Code": "SELF"},
                 header_name="X-Miva-API-Authentication")
        check("miva alternate header name", r.get("success") is True, r)
        st, out = http(url, method="GET")
        check("miva GET refused", json.loads(out).get("error_message") == "Invalid request method", out)
        st, out = http(url.replace("/mm5/json.mvc", "/__blind/requests"))
        log = json.loads(out)
        check("miva request log", len(log) >= 20 and log[0]["auth_scheme"] == "MIVA-HMAC-SHA256", log[:1])
    finally:
        p.kill()
        p.wait()


# ---------------------------------------------------------------------------
# Miravia


def miravia_vectors():
    s = miravia_gateway.sign
    sys_ = {"access_token": "test", "app_key": "123456", "sign_method": "sha256",
            "timestamp": "1517820392000"}
    cases = [
        ("/order/get", {**sys_, "order_id": "1234"},
         "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A"),
        ("/products/get", {**sys_, "filter": "live", "search": "Camiseta algodón ñ"},
         "23A15CCD6AF746D7D6700F1477B73A11BF80B3BC9804E71DC85D7C517337D435"),
        ("/products/get", {**sys_, "filter": "live", "search": "a b&c=d+e%20f"},
         "0676DFE601A0A5AC586F1002CE05DF07A212B29776E192149E0F295DB4B5C41E"),
        ("/orders/get", {**sys_, "created_after": "2018-02-10T16:00:00+08:00", "status": ""},
         "DE78FA27BBC7B13CE27C1FD16F01773019EE32F801621ED1D6D2574E8AE9B331"),
        ("/test/api", {"B": "2", "a": "1", "A": "0", "_x": "3", "b": "4", "item_id": "5",
                       "item_ids": "6", "Z9": "7"},
         "08FCAF7A81B3BA18340EE49B952EEAECFCC65B62E99D47645EE28CE2D0AC8DA2"),
        ("/auth/token/create", {"app_key": "12345678", "code": "3_500102_JxZ05Ux3cnnSSUm6dCxYg6Q26",
                                "sign_method": "sha256", "timestamp": "1517820392000"},
         "35607762342831B6A417A0DED84B79C05FEFBF116969C48AD6DC00279A9F4D81"),
    ]
    for api, params, want in cases:
        got = s("helloworld", api, params)
        check(f"miravia vector {api} {sorted(params)[0:2]}", got == want, got)


def miravia_http():
    tmp = tempfile.mkdtemp()
    cfg = {"app_key": "551122", "app_secret": "fake-" + secrets.token_hex(12),
           "access_token": "fake-at-" + secrets.token_hex(8), "auth_code": "fake-code-1",
           "refresh_token": "fake-rt-1"}
    path = os.path.join(tmp, "g.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    p, base = start("miravia_gateway.py", "--config", path)
    try:
        def signed(api, params, secret=cfg["app_secret"], token=True, ts=None):
            allp = {"app_key": cfg["app_key"], "sign_method": "sha256",
                    "timestamp": ts or str(int(time.time() * 1000)), **params}
            if token:
                allp["access_token"] = cfg["access_token"]
            allp = {k: v for k, v in allp.items() if v != ""}
            allp["sign"] = miravia_gateway.sign(secret, api, allp)
            return allp

        def get(api, params, **kw):
            q = urllib.parse.urlencode(signed(api, params, **kw), quote_via=urllib.parse.quote)
            return json.loads(http(base + api + "?" + q)[1])

        def post(api, params, **kw):
            b = urllib.parse.urlencode(signed(api, params, **kw)).encode()
            return json.loads(http(base + api, b, {"Content-Type": "application/x-www-form-urlencoded"})[1])

        r = get("/seller/get", {})
        check("miravia seller GET", r.get("code") == "0" and r["data"]["seller_id"] == 1000123456, r)
        r = get("/products/get", {"search": miravia_gateway.SPECIAL_NAME, "filter": "all"})
        check("miravia GET special chars", r.get("code") == "0" and r["data"]["total_products"] == 1, r)
        r = post("/products/get", {"search": miravia_gateway.SPECIAL_NAME})
        check("miravia POST form special chars", r.get("code") == "0" and r["data"]["total_products"] == 1, r)
        r = get("/products/get", {"offset": "20", "limit": "10"})
        check("miravia paging tail", len(r["data"]["products"]) == 3 and r["data"]["total_products"] == 23, r)
        r = get("/order/get", {"order_id": "900000101"})
        check("miravia order", r.get("code") == "0" and r["data"]["order_id"] == 900000101, r)
        r = get("/seller/get", {}, secret="wrong")
        check("miravia wrong secret", r.get("code") == "IncompleteSignature" and set(r) ==
              {"type", "code", "message", "request_id"}, r)
        r = get("/seller/get", {}, token=False)
        check("miravia missing token", r.get("code") == "IllegalAccessToken", r)
        r = get("/seller/get", {}, ts=str(int(time.time() * 1000) - 7300 * 1000))
        check("miravia old timestamp", r.get("code") == "InvalidTimestamp", r)
        r = get("/seller/get", {}, ts=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        check("miravia ISO timestamp", r.get("code") == "0", r)
        r = get("/nope/get", {})
        check("miravia unknown api", r.get("code") == "InvalidApi", r)
        r = get("/auth/token/create", {"code": "fake-code-1"}, token=False)
        check("miravia token create", r.get("access_token") == cfg["access_token"], r)
        # multipart: text part signed, file part not
        params = signed("/image/upload", {"note": "hola ñ"})
        data = bytes(range(256)) * 4 + b"\r\n--not-a-boundary\r\n"
        bnd = "----blind" + secrets.token_hex(8)
        parts = []
        for k, v in params.items():
            parts.append(f'--{bnd}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
        parts.append(f'--{bnd}\r\nContent-Disposition: form-data; name="image"; filename="x.png"\r\n'
                     f'Content-Type: image/png\r\n\r\n'.encode() + data + b"\r\n")
        parts.append(f"--{bnd}--\r\n".encode())
        st, out = http(base + "/image/upload", b"".join(parts),
                       {"Content-Type": f"multipart/form-data; boundary={bnd}"})
        r = json.loads(out)
        check("miravia multipart upload", r.get("code") == "0" and
              r["data"]["image"]["hash_code"] == hashlib.sha256(data).hexdigest(), r)
        log = json.loads(http(base.replace("/rest", "/__blind/requests"))[1])
        check("miravia request log", log[-1]["files"][0]["size"] == len(data), log[-1])
    finally:
        p.kill()
        p.wait()


def main():
    miva_vectors()
    miva_http()
    miravia_vectors()
    miravia_http()
    passed = sum(RESULTS)
    failed = len(RESULTS) - passed
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
