#!/usr/bin/env python3
"""A small Miva Merchant JSON API store, written from the vendor documents only.

Sources: /work/shared/spec/miva-json-api-getting-started.txt and the checked
wire facts in /work/shared/notes/wire-facts.md.  Python 3.11 standard library
only.  Not a copy of any other implementation.

    python3 miva_store.py [--host 127.0.0.1] [--port 0] [--products N]
                          [--config creds.json]

The first stdout line is the endpoint (http://HOST:PORT/mm5/json.mvc); it then
serves until killed.  Without --config it makes fresh, random, fake
credentials and prints them on stderr as `export MIVA_...=` lines.

Config file (JSON):
    {"store_code": "BLIND",
     "tokens": [{"token": "...", "signing_key": "<base64, padding optional>" | null,
                 "require_timestamp": true}]}

A token with a signing key must be used with MIVA-HMAC-SHA256 or
MIVA-HMAC-SHA1; a token without one with the plain `MIVA <token>` header.

Functions: ProductList_Load_Query, Product_Update, StoreList_Load_Query
(domain level: no Store_Code).  Test hook (not part of Miva):
GET /__blind/requests returns the requests received so far (method, path,
the auth scheme and token, content type, parsed body); it never echoes the
signature.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

API_PATH = "/mm5/json.mvc"
TIMESTAMP_WINDOW = 30  # seconds, from the getting-started page

# ---------------------------------------------------------------------------
# Data


_ADJ = ["Red", "Blue", "Green", "Café", "Oak", "Steel", "Linen", "Velvet", "Ñandú", "Amber", "Slate"]
_NOUN = ["Mug", "Chair", "Lamp", "Scarf", "Kettle", "Notebook", "Sofa", "Bottle", "Shelf", "Clock"]


def product_code(i: int) -> str:
    """Codes whose order differs from the id order; unique thanks to the suffix."""
    return f"{chr(65 + (i * 7) % 26)}{chr(65 + (i * 11) % 26)}-{i:04d}"


def make_products(n: int) -> list[dict]:
    """The full records of a fresh store of n products (ids 1..n)."""
    if n >= 10007:
        raise ValueError("at most 10006 products (prices must stay unique)")
    out = []
    for i in range(1, n + 1):
        cents = (i * 7919) % 10007 + 100  # a permutation: every price is unique
        price = cents / 100
        out.append({
            "id": i,
            "code": product_code(i),
            "sku": f"SKU{i:05d}",
            "name": f"{_ADJ[i % len(_ADJ)]} {_NOUN[(i * 3) % len(_NOUN)]} {i}",
            "thumbnail": "",
            "image": f"graphics/00000001/p{i}.jpg",
            "price": price,
            "cost": round(price * 0.6, 2),
            "descrip": f"<p>Description of product {i} \u2014 ñ &amp; \"quoted\"</p>",
            "catcount": i % 4,
            "weight": (i % 13) + 0.5,
            "active": i % 5 != 0,
            "page_title": f"Product {i}",
            "taxable": i % 2 == 0,
            "dt_created": 1700000000 + i * 3600,
            "dt_updated": 1700500000 + i * 60,
        })
    return out


# Columns only returned when named in the "ondemandcolumns" filter.
PRODUCT_ONDEMAND = {"descrip"}


def public_record(rec: dict, ondemand=()) -> dict:
    """The record as ProductList_Load_Query returns it."""
    out = {k: v for k, v in rec.items() if k not in PRODUCT_ONDEMAND or k in ondemand}
    return out


def make_stores(store_code: str) -> list[dict]:
    return [
        {"id": 1, "code": store_code, "name": "Blind Test Store", "license": "",
         "icon": "", "owner": "Blind Owner", "email": "owner@example.invalid",
         "company": "Blind Co", "address": "1 Nowhere St", "city": "Testville",
         "state": "TS", "zip": "00000", "phone": "", "fax": "", "country": "ES",
         "wtunits": "LB", "wtunitcode": "LB", "dmunitcode": "IN",
         "dt_created": 1690000000},
        {"id": 2, "code": store_code + "_B", "name": "Second Blind Store", "license": "",
         "icon": "", "owner": "Other Owner", "email": "other@example.invalid",
         "company": "Blind Co", "address": "2 Nowhere St", "city": "Testville",
         "state": "TS", "zip": "00000", "phone": "", "fax": "", "country": "FR",
         "wtunits": "KG", "wtunitcode": "KG", "dmunitcode": "CM",
         "dt_created": 1690003600},
    ]


# ---------------------------------------------------------------------------
# Errors


class ApiError(Exception):
    def __init__(self, code: str, message: str, success=0, **extra):
        super().__init__(message)
        self.payload = {"success": success, "error_code": code, "error_message": message}
        self.payload.update(extra)


def access_denied(message: str) -> ApiError:
    return ApiError("access_denied", message)


def validation_error(field: str, field_message: str) -> ApiError:
    # The shape of the document's "Required Fields Validation Error" example.
    return ApiError(
        "MER-JSN-00018",
        f"Invalid value for field '{field}': {field_message}",
        validation_error=True,
        error_field=field,
        error_field_message=field_message,
    )


# ---------------------------------------------------------------------------
# List Load Query engine


def _as_number(v):
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v.strip())
        except ValueError:
            return None
    return None


def _like(pattern: str, text: str) -> bool:
    rx = []
    for ch in pattern:
        if ch == "%":
            rx.append(".*")
        elif ch == "_":
            rx.append(".")
        else:
            rx.append(re.escape(ch))
    return re.fullmatch("".join(rx), text, re.IGNORECASE | re.DOTALL) is not None


def _cmp(field_value, value):
    """-1/0/1 comparing a record value with a filter value (numbers numerically)."""
    if isinstance(field_value, (int, float)) and not isinstance(field_value, bool):
        n = _as_number(value)
        if n is None:
            raise ApiError("MER-LST-00002", f"Invalid numeric search value '{value}'")
        a = float(field_value)
        return (a > n) - (a < n)
    if isinstance(field_value, bool):
        b = str(value).strip().lower() in ("1", "true", "yes")
        return (field_value > b) - (field_value < b)
    a = str(field_value).lower()
    b = str(value).lower()
    return (a > b) - (a < b)


def _eq(field_value, value) -> bool:
    return _cmp(field_value, value) == 0


def _truthy(v) -> bool:
    if isinstance(v, str):
        return v.strip() not in ("", "0")
    return bool(v)


def _term(rec: dict, term: dict, columns: set) -> bool:
    if not isinstance(term, dict):
        raise ApiError("MER-LST-00001", "Invalid search term")
    field = term.get("field")
    op = str(term.get("operator", ""))
    value = term.get("value")
    if op == "SUBWHERE":
        raise AssertionError("handled by caller")
    if field not in columns:
        raise ApiError("MER-LST-00003", f"Invalid search field '{field}'")
    fv = rec.get(field)
    if op == "EQ":
        return _eq(fv, value)
    if op == "NE":
        return not _eq(fv, value)
    if op in ("GT", "GE", "LT", "LE"):
        c = _cmp(fv, value)
        return {"GT": c > 0, "GE": c >= 0, "LT": c < 0, "LE": c <= 0}[op]
    if op == "CO":
        return str(value).lower() in str(fv).lower()
    if op == "NC":
        return str(value).lower() not in str(fv).lower()
    if op == "LIKE":
        return _like(str(value), str(fv))
    if op == "NOTLIKE":
        return not _like(str(value), str(fv))
    if op == "TRUE":
        return _truthy(fv)
    if op == "FALSE":
        return not _truthy(fv)
    if op == "NULL":
        return fv is None or fv == ""
    if op in ("IN", "NOT_IN"):
        if not isinstance(value, str):
            raise ApiError("MER-LST-00004", f"{op} takes one comma-joined string")
        # Empty pieces are skipped; no piece at all adds no condition.
        items = [x.strip() for x in value.split(",") if x.strip()]
        if not items:
            return None
        hit = any(_eq(fv, x) for x in items)
        return hit if op == "IN" else not hit
    raise ApiError("MER-LST-00005", f"Invalid search operator '{op}'")


def _entries(rec: dict, terms, columns: set, default: str):
    """A store's reading of one group (Miva's server code, the LSK
    `mmlsk-json.mv` 4458-4557 and `lib/dbeng/sql.mv` 265-299; the facts
    page, "How a store combines conditions"): a plain entry is joined to the
    one before by the group's default, a SUBWHERE by its own connector
    (`search_AND` AND, `search_OR` OR, `search` the default) and its
    children default to OR (`search`, `search_AND`) or AND (`search_OR`);
    the first entry's connector is ignored, entries that add no SQL are left
    out, and the group is flat SQL, so AND binds tighter than OR. Returns
    None when nothing in the group adds a condition."""
    if not isinstance(terms, list):
        raise ApiError("MER-LST-00001", "search value must be an array")
    runs, run, seen = [], True, False
    for term in terms:
        if isinstance(term, dict) and term.get("operator") == "SUBWHERE":
            field = term.get("field")
            if field not in ("search", "search_AND", "search_OR"):
                raise ApiError("MER-LST-00006", f"Invalid SUBWHERE connector '{field}'")
            conn = {"search": None, "search_AND": "AND", "search_OR": "OR"}[field]
            value = _entries(rec, term.get("value"), columns,
                             "AND" if field == "search_OR" else "OR")
        else:
            conn = None
            value = _term(rec, term, columns)
        if value is None:
            continue
        if seen and (conn or default) == "OR":
            runs.append(run)
            run = True
        run = run and value
        seen = True
    if not seen:
        return None
    return any(runs) or run


def _int_field(req: dict, name: str, default: int) -> int:
    v = req.get(name, default)
    if v is None or v == "":
        return default
    if isinstance(v, bool):
        raise validation_error(name, "Please enter a whole number")
    if isinstance(v, str):
        try:
            v = int(v.strip())
        except ValueError:
            raise validation_error(name, "Please enter a whole number") from None
    if isinstance(v, float):
        if v != int(v):
            raise validation_error(name, "Please enter a whole number")
        v = int(v)
    if not isinstance(v, int) or v < 0:
        raise validation_error(name, "Please enter a non-negative whole number")
    return v


def list_load_query(req: dict, records: list[dict], ondemand_all: set, custom_filters=None) -> dict:
    columns = set()
    for r in records:
        columns.update(r.keys())
    filters = req.get("Filter", [])
    if filters is None or filters == "":
        filters = []
    if not isinstance(filters, list):
        raise ApiError("MER-LST-00007", "Filter must be an array")
    ondemand = set()
    rows = list(records)
    searches = []
    for f in filters:
        if not isinstance(f, dict) or "name" not in f:
            raise ApiError("MER-LST-00007", "Each filter needs a name and a value")
        name = f["name"]
        value = f.get("value")
        if name in ("search", "search_AND", "search_OR"):
            searches.append((name, value))
        elif name == "ondemandcolumns":
            if not isinstance(value, list):
                raise ApiError("MER-LST-00008", "ondemandcolumns takes an array of column names")
            ondemand.update(str(x) for x in value)
        elif custom_filters and name in custom_filters:
            rows = custom_filters[name](rows, value)
        else:
            raise ApiError("MER-LST-00009", f"Unknown filter '{name}'")
    if searches:
        # Top-level filters: each a group; search_OR joins by OR and its
        # children default to AND, the others by AND (mmlsk-json.mv 4343-4348).
        def keep(r):
            top = [{"field": "search" if n == "search" else n, "operator": "SUBWHERE", "value": v}
                   for n, v in searches]
            result = _entries(r, top, columns, "AND")
            return True if result is None else result
        rows = [r for r in rows if keep(r)]
    sort = req.get("Sort", "") or ""
    if not isinstance(sort, str):
        raise ApiError("MER-LST-00010", "Sort must be a string")
    rows.sort(key=lambda r: r["id"])
    if sort:
        desc = sort.startswith("-")
        field = sort[1:] if desc else sort
        if field not in columns:
            raise ApiError("MER-LST-00011", f"Invalid sort field '{field}'")

        def key(r):
            v = r.get(field)
            if isinstance(v, str):
                return (1, v.lower())
            return (0, v if v is not None else 0)

        rows.sort(key=key, reverse=desc)  # stable: ties stay in id order
    total = len(rows)
    offset = _int_field(req, "Offset", 0)
    count = _int_field(req, "Count", 0)  # 0: no limit
    page = rows[offset:offset + count] if count else rows[offset:]
    out = []
    for r in page:
        out.append({k: v for k, v in r.items() if k not in ondemand_all or k in ondemand})
    return {"total_count": total, "start_offset": offset, "data": out}


# ---------------------------------------------------------------------------
# The store


class Store:
    def __init__(self, store_code: str, n_products: int, tokens: list[dict]):
        self.store_code = store_code
        self.products = make_products(n_products)
        self.stores = make_stores(store_code)
        self.tokens = {t["token"]: t for t in tokens}
        self.lock = threading.Lock()
        self.log: list[dict] = []

    # -- authentication -------------------------------------------------

    @staticmethod
    def decode_key(key: str) -> bytes:
        k = key.strip()
        k += "=" * (-len(k) % 4)
        try:
            return base64.b64decode(k, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("signing key is not base64") from None

    def authenticate(self, header: str, body: bytes) -> dict:
        """Returns the token entry or raises ApiError(access_denied)."""
        m = re.fullmatch(r"(\S+) (\S+)", header.strip())
        if not m:
            raise access_denied("Access denied")
        scheme, cred = m.group(1), m.group(2)
        if scheme == "MIVA":
            tok = self.tokens.get(cred)
            if tok is None:
                raise access_denied("Access denied")
            if tok.get("signing_key"):
                # The token expects a signature and none was sent.
                raise access_denied("Invalid request signature")
            return tok
        if scheme in ("MIVA-HMAC-SHA256", "MIVA-HMAC-SHA1"):
            if ":" not in cred:
                tok = self.tokens.get(cred)
                if tok is None:
                    raise access_denied("Access denied")
                raise access_denied("Invalid request signature")
            token, sig_b64 = cred.split(":", 1)
            tok = self.tokens.get(token)
            if tok is None:
                raise access_denied("Access denied")
            if not tok.get("signing_key"):
                raise access_denied("Access denied")  # type mismatch
            try:
                sig = base64.b64decode(sig_b64, validate=True)
            except (binascii.Error, ValueError):
                raise access_denied("Invalid request signature") from None
            algo = hashlib.sha256 if scheme.endswith("SHA256") else hashlib.sha1
            want = hmac.new(self.decode_key(tok["signing_key"]), body, algo).digest()
            if not hmac.compare_digest(sig, want):
                raise access_denied("Invalid request signature")
            return tok
        # SSH and anything else: not supported by this store.
        raise access_denied("Access denied")

    @staticmethod
    def check_timestamp(tok: dict, req: dict):
        if "Miva_Request_Timestamp" not in req or req["Miva_Request_Timestamp"] in (None, ""):
            if tok.get("require_timestamp", True):
                raise access_denied("Missing required timestamp")
            return
        ts = req["Miva_Request_Timestamp"]
        if isinstance(ts, bool):
            raise access_denied("Timestamp outside configured window")
        if isinstance(ts, str):
            try:
                ts = int(ts.strip())
            except ValueError:
                raise access_denied("Timestamp outside configured window") from None
        if not isinstance(ts, (int, float)) or abs(time.time() - ts) > TIMESTAMP_WINDOW:
            raise access_denied("Timestamp outside configured window")

    # -- dispatch --------------------------------------------------------

    DOMAIN_FUNCTIONS = {"StoreList_Load_Query"}

    def dispatch(self, req: dict) -> dict:
        fn = req.get("Function")
        if not isinstance(fn, str) or not fn:
            raise ApiError("MER-JSN-00002", "Missing required field 'Function'")
        handler = {
            "ProductList_Load_Query": self.product_list,
            "Product_Update": self.product_update,
            "StoreList_Load_Query": self.store_list,
        }.get(fn)
        if handler is None:
            raise ApiError("MER-JSN-00003", f"Unknown function '{fn}'")
        if fn not in self.DOMAIN_FUNCTIONS:
            sc = req.get("Store_Code")
            if sc is None or sc == "":
                raise ApiError("MER-JSN-00004", "Missing Store_Code")
            if sc != self.store_code:
                raise ApiError("MER-JSN-00005", f"Store '{sc}' not found")
        return handler(req)

    def product_list(self, req: dict) -> dict:
        def product_show(rows, value):
            # Exact values (json/products.mv 2047-2052): All shows every
            # product; any other value (this store has no categories to
            # tell Uncategorized apart) shows active ones only.
            if value == "All" or value == "Uncategorized":
                return rows
            return [r for r in rows if r["active"]]

        with self.lock:
            snapshot = [dict(p) for p in self.products]
        data = list_load_query(req, snapshot, PRODUCT_ONDEMAND, {"Product_Show": product_show})
        return {"success": True, "data": data}

    def store_list(self, req: dict) -> dict:
        data = list_load_query(req, [dict(s) for s in self.stores], set())
        return {"success": 1, "data": data}

    _UPDATABLE = {
        "Product_SKU": ("sku", "text"),
        "Product_Name": ("name", "text"),
        "Product_Description": ("descrip", "text"),
        "Product_Page_Title": ("page_title", "text"),
        "Product_Thumbnail": ("thumbnail", "text"),
        "Product_Image": ("image", "text"),
        "Product_Price": ("price", "number"),
        "Product_Cost": ("cost", "number"),
        "Product_Weight": ("weight", "number"),
        "Product_Active": ("active", "bool"),
        "Product_Taxable": ("taxable", "bool"),
    }

    def product_update(self, req: dict) -> dict:
        with self.lock:
            target = None
            if req.get("Product_ID") not in (None, ""):
                pid = req["Product_ID"]
                try:
                    pid = int(pid)
                except (TypeError, ValueError):
                    raise validation_error("Product_ID", "Please enter a whole number") from None
                target = next((p for p in self.products if p["id"] == pid), None)
                ident = "id"
            elif req.get("Edit_Product") not in (None, ""):
                target = next((p for p in self.products if p["code"] == req["Edit_Product"]), None)
                ident = "edit"
            elif req.get("Product_Code") not in (None, ""):
                target = next((p for p in self.products if p["code"] == req["Product_Code"]), None)
                ident = "code"
            else:
                raise ApiError("MER-JSN-00006", "Missing product identifier: Product_ID, Edit_Product or Product_Code")
            if target is None:
                raise ApiError("MER-PRD-00001", "Product not found")

            changes = {}
            for fname, (col, kind) in self._UPDATABLE.items():
                if fname not in req:
                    continue
                v = req[fname]
                if kind == "number":
                    if isinstance(v, bool) or _as_number(v) is None:
                        raise validation_error(fname, "Please enter a number")
                    n = _as_number(v)
                    if n < 0:
                        raise validation_error(fname, "Please enter a positive number")
                    changes[col] = n
                elif kind == "bool":
                    if isinstance(v, bool):
                        changes[col] = v
                    elif v in (0, 1, "0", "1"):
                        changes[col] = v in (1, "1")
                    else:
                        raise validation_error(fname, "Please enter true or false")
                else:
                    if not isinstance(v, str):
                        raise validation_error(fname, "Please enter text")
                    changes[col] = v
            if "Product_Code" in req and ident != "code":
                new_code = req["Product_Code"]
                if not isinstance(new_code, str) or not new_code:
                    raise validation_error("Product_Code", "Please enter a value")
                if any(p["code"] == new_code and p is not target for p in self.products):
                    raise validation_error("Product_Code", "A product with this code already exists")
                changes["code"] = new_code
            target.update(changes)
            target["dt_updated"] = int(time.time())
        return {"success": 1}


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


def make_handler(store: Store):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "BlindMivaStore/1.0"

        def log_message(self, fmt, *args):  # quiet
            pass

        def _send(self, status: int, payload, raw: bytes | None = None):
            body = raw if raw is not None else json.dumps(payload).encode()
            self.send_response(status)
            if raw is None or raw:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _record(self, entry: dict):
            with store.lock:
                entry["seq"] = len(store.log)
                store.log.append(entry)

        def do_GET(self):
            path = urlsplit(self.path).path
            if path == "/__blind/requests":
                with store.lock:
                    snap = list(store.log)
                self._send(200, snap)
                return
            self._api("GET")

        def do_POST(self):
            self._api("POST")

        def do_PUT(self):
            self._api("PUT")

        def do_DELETE(self):
            self._api("DELETE")

        def _api(self, method: str):
            body = read_body(self) if method != "GET" else b""
            path = urlsplit(self.path).path
            header = self.headers.get("X-Miva-API-Authorization")
            header_name = "X-Miva-API-Authorization"
            if header is None:
                header = self.headers.get("X-Miva-API-Authentication")
                header_name = "X-Miva-API-Authentication" if header is not None else None
            scheme, token = None, None
            if header:
                parts = header.strip().split(" ", 1)
                scheme = parts[0]
                if len(parts) > 1:
                    token = parts[1].split(":", 1)[0]
            entry = {
                "method": method,
                "path": self.path,
                "content_type": self.headers.get("Content-Type"),
                "auth_header_name": header_name,
                "auth_scheme": scheme,
                "auth_token": token,
                "timeout_header": self.headers.get("X-Miva-API-Timeout"),
                "body_len": len(body),
                "body": None,
                "response": None,
            }
            try:
                entry["body"] = json.loads(body) if body else None
            except ValueError:
                entry["body"] = {"__unparseable__": body[:200].decode("utf-8", "replace")}
            status, payload, raw = self._handle(method, path, header, body)
            entry["response"] = payload if raw is None else {"__raw_len__": len(raw)}
            self._record(entry)
            self._send(status, payload, raw)

        def _handle(self, method, path, header, body):
            if path != API_PATH:
                return 404, {"success": 0, "error_code": "not_found", "error_message": "Not found"}, None
            try:
                if method != "POST":
                    raise access_denied("Invalid request method")
                ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
                if ctype != "application/json":
                    raise access_denied("Invalid request content type")
                if not header:
                    # The document: without the header "no response will be given".
                    return 200, None, b""
                tok = store.authenticate(header, body)
                try:
                    req = json.loads(body.decode("utf-8"))
                except (UnicodeDecodeError, ValueError):
                    raise ApiError("MER-JSN-00001", "Invalid JSON request body") from None
                if not isinstance(req, dict):
                    raise ApiError("MER-JSN-00001", "Request body must be a JSON object")
                store.check_timestamp(tok, req)
                return 200, store.dispatch(req), None
            except ApiError as e:
                return 200, e.payload, None

    return Handler


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--products", type=int, default=50)
    ap.add_argument("--config", help="JSON credentials file (see module docstring)")
    args = ap.parse_args(argv)

    if args.config:
        with open(args.config, encoding="utf-8") as f:
            cfg = json.load(f)
    else:
        key = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        cfg = {"store_code": "BLIND",
               "tokens": [{"token": "fake" + secrets.token_hex(14), "signing_key": key,
                           "require_timestamp": True}]}
    for t in cfg["tokens"]:
        if t.get("signing_key"):
            Store.decode_key(t["signing_key"])  # fail early on a bad key

    store = Store(cfg["store_code"], args.products, cfg["tokens"])
    httpd = ThreadingHTTPServer((args.host, args.port), make_handler(store))
    httpd.daemon_threads = True
    host, port = httpd.server_address[:2]
    print(f"http://{host}:{port}{API_PATH}", flush=True)
    if not args.config:
        t = cfg["tokens"][0]
        print(f"export MIVA_STORE_CODE={cfg['store_code']}", file=sys.stderr)
        print(f"export MIVA_API_TOKEN={t['token']}", file=sys.stderr)
        print(f"export MIVA_SIGNING_KEY={t['signing_key']}", file=sys.stderr, flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
