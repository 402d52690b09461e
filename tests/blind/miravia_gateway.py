#!/usr/bin/env python3
"""A small Miravia / Lazada Open Platform gateway, written from the vendor
document only.

Sources: /work/shared/spec/miravia-call-api-with-http.txt and the checked wire
facts in /work/shared/notes/wire-facts.md.  Python 3.11 standard library only.

    python3 miravia_gateway.py [--host 127.0.0.1] [--port 0] [--config cfg.json]

The first stdout line is the base URL (http://HOST:PORT/rest); it then serves
until killed.  Without --config it makes fresh, random, fake credentials and
prints them on stderr as `export MIRAVIA_...=` lines.

Config file (JSON):
    {"app_key": "...", "app_secret": "...", "access_token": "...",
     "auth_code": "...",  "refresh_token": "..."}

Signature: HMAC-SHA256 keyed with the app secret over
API path + name + value for each parameter sorted by name (byte order),
`sign` itself, empty values and multipart file parts left out; uppercase hex.
Parameters come from the query string, an x-www-form-urlencoded body, and the
text parts of a multipart/form-data body, all merged (a name given twice is
refused).

APIs: /seller/get, /products/get (offset/limit, filter, search),
/order/get (order_id), /image/upload (multipart file part `image`),
/auth/token/create (code), /auth/token/refresh (refresh_token).

Test hook (not part of the platform): GET /__blind/requests returns the
requests received so far (method, api, content type, names of the signed
parameters, file parts with size and sha256, outcome code).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import re
import secrets
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

TIMESTAMP_WINDOW = 7200  # seconds, from the document's system parameters table
SELLER_APIS = {"/seller/get", "/products/get", "/order/get", "/image/upload"}
TOKEN_APIS = {"/auth/token/create", "/auth/token/refresh"}
MAX_LIMIT = 50

# ---------------------------------------------------------------------------
# Signing


def sign(secret: str, api: str, params: dict[str, str]) -> str:
    s = api + "".join(k + params[k] for k in sorted(params, key=lambda k: k.encode("utf-8"))
                      if k and params[k] != "")
    return hmac.new(secret.encode("utf-8"), s.encode("utf-8"), hashlib.sha256).hexdigest().upper()


def parse_timestamp(v: str) -> float | None:
    v = v.strip()
    if re.fullmatch(r"\d{10,16}", v):
        return int(v) / 1000.0
    try:
        t = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.timestamp()


# ---------------------------------------------------------------------------
# Data

SPECIAL_NAME = "Camiseta algodón ñ a b&c=d+e%20f"


def make_products(n: int) -> list[dict]:
    out = []
    for i in range(1, n + 1):
        item_id = 3000000000 + i * 17
        name = SPECIAL_NAME if i == 7 else f"Producto de prueba {i}"
        status = "inactive" if i % 6 == 0 else "live"
        price = f"{(i * 37) % 200 + 1}.{i % 100:02d}"
        out.append({
            "item_id": item_id,
            "primary_category": 10002019 + (i % 3),
            "attributes": {"name": name, "description": f"Descripción {i} &amp; <b>más</b>",
                           "brand": "No Brand"},
            "skus": [{"SellerSku": f"BLIND-SKU-{i:04d}", "ShopSku": f"{item_id}_ES-{i}",
                      "SkuId": item_id * 10 + 1, "quantity": (i * 3) % 50,
                      "price": price, "Status": "active" if status == "live" else "inactive",
                      "Images": [f"https://img.example.invalid/{item_id}.jpg"]}],
            "status": status,
            "created_time": str(1690000000000 + i * 1000),
            "updated_time": str(1695000000000 + i * 1000),
        })
    return out


def make_orders() -> dict[str, dict]:
    orders = {}
    for i in range(1, 6):
        oid = str(900000000 + i * 101)
        orders[oid] = {
            "order_id": int(oid),
            "order_number": int(oid),
            "created_at": "2024-01-0%d 10:00:00 +0100" % i,
            "updated_at": "2024-01-0%d 12:00:00 +0100" % i,
            "price": f"{i * 10}.50",
            "items_count": i,
            "payment_method": "COD",
            "statuses": ["pending" if i % 2 else "shipped"],
            "customer_first_name": "Cliente",
            "customer_last_name": f"Número {i}",
            "address_shipping": {"city": "Madrid", "country": "Spain", "post_code": "28001"},
        }
    return orders


SELLER = {
    "name": "Tienda Ciega",
    "name_company": "Blind Test S.L.",
    "seller_id": 1000123456,
    "email": "seller@example.invalid",
    "short_code": "ES1BLIND",
    "cb": False,
    "location": "Madrid",
    "status": "ACTIVE",
    "verified": True,
}

# ---------------------------------------------------------------------------
# Errors


class PlatformError(Exception):
    def __init__(self, code: str, message: str, type_: str = "ISV"):
        super().__init__(message)
        self.code, self.message, self.type = code, message, type_


def request_id() -> str:
    return "21" + secrets.token_hex(11)


# ---------------------------------------------------------------------------
# Multipart


def _header_params(value: str) -> tuple[str, dict[str, str]]:
    parts = value.split(";")
    main = parts[0].strip().lower()
    params = {}
    for p in parts[1:]:
        if "=" not in p:
            continue
        k, v = p.split("=", 1)
        k = k.strip().lower()
        v = v.strip()
        if len(v) >= 2 and v[0] == v[-1] == '"':
            v = v[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        params[k] = v
    return main, params


def parse_multipart(body: bytes, boundary: str):
    """Returns (text fields as list of (name, value), file parts as list of dict)."""
    delim = b"--" + boundary.encode("latin-1")
    fields, files = [], []
    segments = body.split(delim)
    # segments[0] is the preamble; the last one starts with "--" (epilogue)
    if len(segments) < 2:
        raise PlatformError("InvalidParameter", "Malformed multipart body")
    closed = False
    for seg in segments[1:]:
        if seg.startswith(b"--"):
            closed = True
            break
        if seg.startswith(b"\r\n"):
            seg = seg[2:]
        if seg.endswith(b"\r\n"):
            seg = seg[:-2]
        head, sep, content = seg.partition(b"\r\n\r\n")
        if not sep:
            raise PlatformError("InvalidParameter", "Malformed multipart part")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        disp, dparams = _header_params(headers.get("content-disposition", ""))
        if disp != "form-data" or "name" not in dparams:
            raise PlatformError("InvalidParameter", "Multipart part without form-data name")
        if "filename" in dparams:
            files.append({"name": dparams["name"], "filename": dparams["filename"],
                          "content_type": headers.get("content-type"), "data": content})
        else:
            try:
                fields.append((dparams["name"], content.decode("utf-8")))
            except UnicodeDecodeError:
                raise PlatformError("InvalidParameter", "Text part is not UTF-8") from None
    if not closed:
        raise PlatformError("InvalidParameter", "Multipart body not terminated")
    return fields, files


# ---------------------------------------------------------------------------
# Gateway


class Gateway:
    def __init__(self, cfg: dict, n_products: int):
        self.cfg = cfg
        self.products = make_products(n_products)
        self.orders = make_orders()
        self.lock = threading.Lock()
        self.log: list[dict] = []

    def verify(self, api: str, params: dict[str, str]):
        if not params.get("app_key"):
            raise PlatformError("MissingAppKey", "Missing app key")
        if params["app_key"] != self.cfg["app_key"]:
            raise PlatformError("InvalidAppKey", "The specified app key is invalid")
        if not params.get("sign"):
            raise PlatformError("IncompleteSignature", "Missing signature")
        if params.get("sign_method") != "sha256":
            raise PlatformError("IncompleteSignature",
                                "Unsupported sign_method (sha256 expected)")
        ts = params.get("timestamp")
        if not ts:
            raise PlatformError("MissingTimestamp", "Missing timestamp")
        t = parse_timestamp(ts)
        if t is None:
            raise PlatformError("InvalidTimestamp", "Timestamp is not in milliseconds or ISO 8601 UTC")
        if abs(time.time() - t) > TIMESTAMP_WINDOW:
            raise PlatformError("InvalidTimestamp", "Timestamp is more than 7200 s away from UTC")
        signed = {k: v for k, v in params.items() if k != "sign"}
        want = sign(self.cfg["app_secret"], api, signed)
        if not hmac.compare_digest(want, params["sign"]):
            raise PlatformError("IncompleteSignature",
                                "The request signature does not conform to platform standards")
        if api in SELLER_APIS:
            tok = params.get("access_token")
            if not tok or tok != self.cfg["access_token"]:
                raise PlatformError("IllegalAccessToken",
                                    "The specified access token is invalid or expired")

    # -- APIs -------------------------------------------------------------

    def call(self, api: str, method: str, params: dict[str, str], files: list[dict]):
        if api == "/seller/get":
            return {"code": "0", "data": dict(SELLER)}
        if api == "/products/get":
            return {"code": "0", "data": self.products_get(params)}
        if api == "/order/get":
            oid = params.get("order_id")
            if not oid:
                raise PlatformError("MissingParameter", "Missing required parameter: order_id")
            order = self.orders.get(oid)
            if order is None:
                raise PlatformError("InvalidParameter", f"Order {oid} not found")
            return {"code": "0", "data": order}
        if api == "/image/upload":
            if method != "POST":
                raise PlatformError("InvalidParameter", "Image upload must be a POST")
            img = [f for f in files if f["name"] == "image"]
            if len(img) != 1:
                raise PlatformError("MissingParameter",
                                    "Missing required file parameter: image")
            data = img[0]["data"]
            digest = hashlib.sha256(data).hexdigest()
            return {"code": "0", "data": {"image": {
                "hash_code": digest,
                "url": f"https://img.example.invalid/upload/{digest}.jpg",
                "size": len(data),
                "filename": img[0]["filename"],
            }}}
        if api == "/auth/token/create":
            code = params.get("code")
            if not code:
                raise PlatformError("MissingParameter", "Missing required parameter: code")
            if code != self.cfg.get("auth_code"):
                raise PlatformError("InvalidCode", "The authorization code is invalid or expired")
            return self.token_response()
        if api == "/auth/token/refresh":
            rt = params.get("refresh_token")
            if not rt:
                raise PlatformError("MissingParameter", "Missing required parameter: refresh_token")
            if rt != self.cfg.get("refresh_token"):
                raise PlatformError("IllegalRefreshToken", "The refresh token is invalid or expired")
            return self.token_response()
        raise PlatformError("InvalidApi", f"Unknown API {api}")

    def token_response(self) -> dict:
        return {
            "code": "0",
            "access_token": self.cfg["access_token"],
            "refresh_token": self.cfg.get("refresh_token", ""),
            "expires_in": 604800,
            "refresh_expires_in": 2592000,
            "country": "es",
            "account_platform": "seller_center",
            "account": "seller@example.invalid",
            "country_user_info": [{"country": "es", "seller_id": str(SELLER["seller_id"]),
                                   "user_id": "1000999", "short_code": SELLER["short_code"]}],
        }

    def products_get(self, params: dict[str, str]) -> dict:
        def int_param(name, default):
            v = params.get(name)
            if v is None or v == "":
                return default
            if not re.fullmatch(r"\d+", v):
                raise PlatformError("InvalidParameter", f"Parameter {name} must be a non-negative integer")
            return int(v)

        offset = int_param("offset", 0)
        limit = min(int_param("limit", 10), MAX_LIMIT)
        filt = params.get("filter", "all")
        rows = self.products
        if filt == "live":
            rows = [p for p in rows if p["status"] == "live"]
        elif filt == "inactive":
            rows = [p for p in rows if p["status"] == "inactive"]
        elif filt != "all":
            raise PlatformError("InvalidParameter", f"Unknown filter {filt}")
        search = params.get("search")
        if search:
            rows = [p for p in rows
                    if search.lower() in p["attributes"]["name"].lower()
                    or any(search.lower() in s["SellerSku"].lower() for s in p["skus"])]
        return {"total_products": len(rows), "products": rows[offset:offset + limit]}


# ---------------------------------------------------------------------------
# HTTP


def read_body(handler: BaseHTTPRequestHandler) -> bytes:
    te = handler.headers.get("Transfer-Encoding", "")
    if "chunked" in te.lower():
        chunks = []
        while True:
            line = handler.rfile.readline()
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
        return b"".join(chunks)
    n = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(n) if n else b""


def make_handler(gw: Gateway):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "BlindMiraviaGateway/1.0"

        def log_message(self, fmt, *args):
            pass

        def _send(self, payload):
            body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if urlsplit(self.path).path == "/__blind/requests":
                with gw.lock:
                    self._send(list(gw.log))
                return
            self._handle("GET")

        def do_POST(self):
            self._handle("POST")

        def _handle(self, method: str):
            rid = request_id()
            url = urlsplit(self.path)
            body = read_body(self) if method == "POST" else b""
            entry = {"method": method, "path": url.path,
                     "content_type": self.headers.get("Content-Type"),
                     "query_names": [], "body_names": [], "files": [], "code": None,
                     "request_id": rid}
            try:
                if not url.path.startswith("/rest/"):
                    raise PlatformError("InvalidApi", f"Unknown path {url.path}")
                api = url.path[len("/rest"):]
                entry["api"] = api
                pairs = parse_qsl(url.query, keep_blank_values=True, errors="strict")
                entry["query_names"] = [k for k, _ in pairs]
                body_pairs, files = [], []
                if body:
                    ctype, cparams = _header_params(self.headers.get("Content-Type", ""))
                    if ctype == "application/x-www-form-urlencoded":
                        try:
                            text = body.decode("utf-8")
                        except UnicodeDecodeError:
                            raise PlatformError("InvalidParameter", "Form body is not UTF-8") from None
                        body_pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
                    elif ctype == "multipart/form-data":
                        if "boundary" not in cparams:
                            raise PlatformError("InvalidParameter", "Multipart without boundary")
                        body_pairs, files = parse_multipart(body, cparams["boundary"])
                    else:
                        raise PlatformError("InvalidParameter",
                                            f"Unsupported content type {ctype!r}")
                entry["body_names"] = [k for k, _ in body_pairs]
                entry["files"] = [{"name": f["name"], "filename": f["filename"],
                                   "size": len(f["data"]),
                                   "sha256": hashlib.sha256(f["data"]).hexdigest()}
                                  for f in files]
                params: dict[str, str] = {}
                for k, v in pairs + body_pairs:
                    if k in params:
                        raise PlatformError("InvalidParameter", f"Parameter {k} given twice")
                    params[k] = v
                entry["params"] = {k: v for k, v in params.items()
                                   if k not in ("sign", "access_token")}
                if api not in SELLER_APIS and api not in TOKEN_APIS:
                    raise PlatformError("InvalidApi", f"Unknown API {api}")
                gw.verify(api, params)
                resp = gw.call(api, method, params, files)
                resp["request_id"] = rid
                entry["code"] = "0"
            except PlatformError as e:
                resp = {"type": e.type, "code": e.code, "message": e.message, "request_id": rid}
                entry["code"] = e.code
            except UnicodeDecodeError:
                resp = {"type": "ISV", "code": "InvalidParameter",
                        "message": "Parameters are not valid UTF-8", "request_id": rid}
                entry["code"] = "InvalidParameter"
            with gw.lock:
                entry["seq"] = len(gw.log)
                gw.log.append(entry)
            self._send(resp)

    return Handler


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--products", type=int, default=23)
    ap.add_argument("--config", help="JSON file with app_key, app_secret, access_token, ...")
    args = ap.parse_args(argv)
    if args.config:
        with open(args.config, encoding="utf-8") as f:
            cfg = json.load(f)
    else:
        cfg = {"app_key": str(100000 + secrets.randbelow(900000)),
               "app_secret": "fake-" + secrets.token_urlsafe(24),
               "access_token": "fake-at-" + secrets.token_hex(16),
               "auth_code": "fake-code-" + secrets.token_hex(8),
               "refresh_token": "fake-rt-" + secrets.token_hex(16)}
    gw = Gateway(cfg, args.products)
    httpd = ThreadingHTTPServer((args.host, args.port), make_handler(gw))
    httpd.daemon_threads = True
    host, port = httpd.server_address[:2]
    print(f"http://{host}:{port}/rest", flush=True)
    if not args.config:
        print(f"export MIRAVIA_APP_KEY={cfg['app_key']}", file=sys.stderr)
        print(f"export MIRAVIA_APP_SECRET={cfg['app_secret']}", file=sys.stderr)
        print(f"export MIRAVIA_ACCESS_TOKEN={cfg['access_token']}", file=sys.stderr, flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
