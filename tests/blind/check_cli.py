#!/usr/bin/env python3
"""Blind acceptance check of the `miva` CLI against independently written servers.

    python3 tests/blind/check_cli.py --miva-bin target/debug/miva

Starts miva_store.py and miravia_gateway.py (beside this file) on 127.0.0.1
with freshly generated fake credentials, runs the CLI against them with the
environment variables the README describes, and prints one line per check
(`ok NAME` / `FAIL NAME: why`), then `N passed, M failed`.  Exits 1 if any
check failed (2 if the setup itself failed).  Python 3.11 standard library only.

Strict on data (records, order, counts, exit codes); tolerant of formatting
(pretty or compact JSON, whether `miva miravia call` prints the whole
response or only its data, wording of messages around the codes).
"""

from __future__ import annotations

import argparse
import atexit
import base64
import hashlib
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import miravia_gateway  # noqa: E402  (data generators only)
import miva_store  # noqa: E402  (data generators only)

CLI_TIMEOUT = 60  # seconds for one CLI run (debug builds are slow to start)
SERVER_START_TIMEOUT = 20


class Fail(Exception):
    pass


def expect(cond, why):
    if not cond:
        raise Fail(why)


def one_line(s, limit=500):
    s = re.sub(r"\s+", " ", str(s)).strip()
    return s if len(s) <= limit else s[:limit] + "..."


# ---------------------------------------------------------------------------
# Servers


class Server:
    def __init__(self, name, argv, logdir):
        self.name = name
        self.stderr_path = os.path.join(logdir, f"{name}.stderr")
        self._stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self._stderr,
                                     stdin=subprocess.DEVNULL, text=True)
        line = []

        def read():
            line.append(self.proc.stdout.readline())

        t = threading.Thread(target=read, daemon=True)
        t.start()
        t.join(SERVER_START_TIMEOUT)
        if not line or not line[0].startswith("http://"):
            self.stop()
            with open(self.stderr_path) as f:
                err = f.read()
            raise RuntimeError(f"{name} did not print its URL: {line!r} {one_line(err)}")
        self.url = line[0].strip()

    def requests(self, hook_url):
        with urllib.request.urlopen(hook_url, timeout=10) as r:
            return json.loads(r.read())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self._stderr.close()


# ---------------------------------------------------------------------------
# The check


class Check:
    def __init__(self, miva_bin, n_products, n_items):
        self.bin = miva_bin
        self.n = n_products
        self.m = n_items
        self.passed = 0
        self.failed = 0
        self.tmp = tempfile.mkdtemp(prefix="miva-blind-")
        os.chmod(self.tmp, 0o700)
        self.servers = []

    # -- bookkeeping -------------------------------------------------------

    def run_check(self, name, fn):
        try:
            fn()
        except Fail as e:
            self.failed += 1
            print(f"FAIL {name}: {one_line(e)}", flush=True)
            return
        except Exception as e:  # a bug in a check or an unexpected shape
            self.failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {one_line(e)}", flush=True)
            return
        self.passed += 1
        print(f"ok {name}", flush=True)

    def cleanup(self):
        for s in self.servers:
            s.stop()
        self.servers = []
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- setup -------------------------------------------------------------

    def write_private(self, name, data):
        path = os.path.join(self.tmp, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return path

    def start(self):
        # Fresh, clearly fake credentials.  The main signing key is unpadded
        # base64 (43 characters), as keys copied from the Miva admin are.
        self.store_code = "BLIND_" + secrets.token_hex(3).upper()
        self.key = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        self.token = "fake0" + secrets.token_hex(14)
        self.plain_token = "fake1" + secrets.token_hex(14)
        miva_cfg = {"store_code": self.store_code, "tokens": [
            {"token": self.token, "signing_key": self.key, "require_timestamp": True},
            {"token": self.plain_token, "signing_key": None, "require_timestamp": True}]}
        self.app_key = str(100000 + secrets.randbelow(900000))
        self.app_secret = "fake-secret-" + secrets.token_hex(12)
        self.access_token = "fake-at-" + secrets.token_hex(12)
        self.auth_code = "fake-code-" + secrets.token_hex(6)
        self.refresh_token = "fake-rt-" + secrets.token_hex(12)
        gw_cfg = {"app_key": self.app_key, "app_secret": self.app_secret,
                  "access_token": self.access_token, "auth_code": self.auth_code,
                  "refresh_token": self.refresh_token}
        mcfg = self.write_private("miva-store.json", json.dumps(miva_cfg))
        gcfg = self.write_private("miravia-gateway.json", json.dumps(gw_cfg))
        py = sys.executable
        self.store = Server("miva_store", [py, os.path.join(HERE, "miva_store.py"), "--host", "127.0.0.1",
                                           "--port", "0", "--products", str(self.n), "--config", mcfg],
                            self.tmp)
        self.servers.append(self.store)
        self.gw = Server("miravia_gateway", [py, os.path.join(HERE, "miravia_gateway.py"), "--host",
                                             "127.0.0.1", "--port", "0", "--products", str(self.m),
                                             "--config", gcfg], self.tmp)
        self.servers.append(self.gw)
        self.store_hook = self.store.url.replace("/mm5/json.mvc", "/__blind/requests")
        self.gw_hook = self.gw.url[: -len("/rest")] + "/__blind/requests"
        self.home = os.path.join(self.tmp, "home")
        os.mkdir(self.home, 0o700)

        # Expected state of the store (updated as the checks change it).
        self.products = miva_store.make_products(self.n)
        self.items = miravia_gateway.make_products(self.m)

    # -- running the CLI -----------------------------------------------------

    def base_env(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("MIVA_", "MIRAVIA_"))
               and k.upper() not in ("RUST_LOG", "SSH_AUTH_SOCK", "HTTP_PROXY", "HTTPS_PROXY",
                                     "ALL_PROXY", "NO_PROXY")}
        env.update({"HOME": self.home, "NO_COLOR": "1", "NO_PROXY": "127.0.0.1,localhost",
                    "no_proxy": "127.0.0.1,localhost"})
        return env

    def miva_env(self, **over):
        env = self.base_env()
        env.update({"MIVA_ENDPOINT": self.store.url, "MIVA_STORE_CODE": self.store_code,
                    "MIVA_API_TOKEN": self.token, "MIVA_SIGNING_KEY": self.key})
        for k, v in over.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env

    def miravia_env(self, **over):
        env = self.base_env()
        env.update({"MIRAVIA_ENDPOINT": self.gw.url, "MIRAVIA_APP_KEY": self.app_key,
                    "MIRAVIA_APP_SECRET": self.app_secret,
                    "MIRAVIA_ACCESS_TOKEN": self.access_token})
        for k, v in over.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env

    def cli(self, args, env, stdin=None, timeout=CLI_TIMEOUT):
        try:
            p = subprocess.run([self.bin, *args], env=env, input=stdin, capture_output=True,
                               text=True, timeout=timeout, cwd=self.tmp)
        except subprocess.TimeoutExpired:
            raise Fail(f"`miva {' '.join(args)}` timed out after {timeout}s") from None
        return p

    def ok_json(self, args, env, stdin=None):
        """Runs the CLI, expects exit 0 and one JSON document on stdout."""
        p = self.cli(args, env, stdin)
        expect(p.returncode == 0, f"exit {p.returncode}, stderr: {one_line(p.stderr)}")
        try:
            return json.loads(p.stdout)
        except ValueError:
            raise Fail(f"stdout is not one JSON document: {one_line(p.stdout)}") from None

    def ok_lines(self, args, env):
        """Runs `miva list`, expects exit 0 and one JSON object per stdout line."""
        p = self.cli(args, env)
        expect(p.returncode == 0, f"exit {p.returncode}, stderr: {one_line(p.stderr)}")
        out = []
        for i, line in enumerate(p.stdout.splitlines()):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                raise Fail(f"stdout line {i + 1} is not JSON: {one_line(line)}") from None
            expect(isinstance(rec, dict), f"stdout line {i + 1} is not a JSON object")
            out.append(rec)
        return out

    def refused(self, args, env, want_rc=1):
        p = self.cli(args, env)
        expect(p.returncode == want_rc,
               f"exit {p.returncode} (want {want_rc}), stdout: {one_line(p.stdout, 200)} "
               f"stderr: {one_line(p.stderr)}")
        return p

    # -- helpers about the data ----------------------------------------------

    def public(self, recs, ondemand=()):
        return [miva_store.public_record(r, ondemand) for r in recs]

    def store_log(self):
        return self.store.requests(self.store_hook)

    def gw_log(self):
        return self.gw.requests(self.gw_hook)

    @staticmethod
    def call_data(obj):
        """`miva call` prints the response's data; tolerate a whole envelope too."""
        if isinstance(obj, dict) and "success" in obj and "data" in obj:
            return obj["data"]
        return obj

    @staticmethod
    def mdata(obj):
        """`miva miravia call` prints the response JSON; tolerate data only."""
        if isinstance(obj, dict) and "data" in obj and ("code" in obj or "request_id" in obj):
            return obj["data"]
        return obj

    def list_query(self, body, **env_over):
        out = self.ok_json(["call", "ProductList_Load_Query", "--json", json.dumps(body)],
                           self.miva_env(**env_over))
        d = self.call_data(out)
        expect(isinstance(d, dict) and isinstance(d.get("data"), list),
               f"no data list in output: {one_line(out, 200)}")
        return d

    @staticmethod
    def ids(recs):
        return [r.get("id") for r in recs]

    def diff_records(self, got, want):
        if got == want:
            return
        expect(len(got) == len(want), f"{len(got)} records, want {len(want)}; ids {self.ids(got)[:20]}")
        for i, (g, w) in enumerate(zip(got, want)):
            if g != w:
                keys = sorted(set(g) | set(w))
                bad = [k for k in keys if g.get(k, "<absent>") != w.get(k, "<absent>")]
                raise Fail(f"record {i} (want id {w.get('id')}) differs in {bad}: "
                           f"got {[g.get(k, '<absent>') for k in bad]} want {[w.get(k, '<absent>') for k in bad]}")

    # =======================================================================
    # Miva checks

    def c_call_count(self):
        d = self.list_query({"Count": 5})
        self.diff_records(d["data"], self.public(self.products[:5]))
        expect(d.get("total_count") == self.n, f"total_count {d.get('total_count')}, want {self.n}")
        expect(d.get("start_offset") == 0, f"start_offset {d.get('start_offset')}")

    def c_wire_envelope(self):
        before = len(self.store_log())
        self.list_query({"Count": 1})
        new = [e for e in self.store_log()[before:]]
        expect(len(new) == 1, f"{len(new)} requests for one call")
        e = new[0]
        expect(e["method"] == "POST", f"method {e['method']}")
        expect((e["content_type"] or "").split(";")[0].strip() == "application/json",
               f"content type {e['content_type']}")
        expect(e["auth_header_name"] == "X-Miva-API-Authorization", f"header {e['auth_header_name']}")
        expect(e["auth_scheme"] == "MIVA-HMAC-SHA256", f"default scheme {e['auth_scheme']} (want sha256)")
        b = e["body"]
        expect(b.get("Function") == "ProductList_Load_Query", f"Function {b.get('Function')}")
        expect(b.get("Store_Code") == self.store_code, f"Store_Code {b.get('Store_Code')}")
        ts = b.get("Miva_Request_Timestamp")
        expect(isinstance(ts, int) and not isinstance(ts, bool) and abs(ts - time.time()) < 30,
               f"Miva_Request_Timestamp {ts!r} (want integer Unix seconds)")
        expect(e["response"].get("success") is True, f"store answered {e['response']}")

    def c_call_offset(self):
        d = self.list_query({"Count": 4, "Offset": self.n - 2})
        self.diff_records(d["data"], self.public(self.products[-2:]))
        expect(d.get("start_offset") == self.n - 2, f"start_offset {d.get('start_offset')}")
        expect(d.get("total_count") == self.n, f"total_count {d.get('total_count')}")

    def c_call_sort_desc(self):
        d = self.list_query({"Count": 10, "Sort": "-price"})
        want = sorted(self.products, key=lambda p: -p["price"])[:10]
        self.diff_records(d["data"], self.public(want))

    def c_call_sort_asc(self):
        d = self.list_query({"Count": self.n, "Sort": "code"})
        want = sorted(self.products, key=lambda p: p["code"].lower())
        expect(self.ids(d["data"]) == self.ids(want), f"order {self.ids(d['data'])[:12]}...")

    def c_call_filter(self):
        # AND is two search filters: side by side in one, a store ORs them.
        body = {"Filter": [
            {"name": "search", "value": [
                {"field": "price", "operator": "GT", "value": "40"}]},
            {"name": "search", "value": [
                {"field": "name", "operator": "LIKE", "value": "%e%"}]},
            {"name": "ondemandcolumns", "value": ["descrip"]}]}
        d = self.list_query(body)
        want = [p for p in self.products if p["price"] > 40 and "e" in p["name"].lower()]
        expect(0 < len(want) < self.n, "bad fixture")
        self.diff_records(d["data"], self.public(want, ondemand={"descrip"}))
        expect(d.get("total_count") == len(want), f"total_count {d.get('total_count')}, want {len(want)}")

    def c_call_filter_in(self):
        pick = [3, 17, min(41, self.n)]
        codes = ",".join(self.products[i - 1]["code"] for i in reversed(pick))
        body = {"Filter": [{"name": "search", "value": [
            {"field": "code", "operator": "IN", "value": codes}]}]}
        d = self.list_query(body)
        self.diff_records(d["data"], self.public([self.products[i - 1] for i in sorted(set(pick))]))

    def c_call_filter_or(self):
        body = {"Filter": [{"name": "search", "value": [
            {"field": "price", "operator": "LT", "value": 25},
            {"field": "search_OR", "operator": "SUBWHERE", "value": [
                {"field": "id", "operator": "EQ", "value": "7"}]}]}]}
        d = self.list_query(body)
        want = [p["id"] for p in self.products if p["price"] < 25 or p["id"] == 7]
        expect(self.ids(d["data"]) == want, f"ids {self.ids(d['data'])}, want {want}")

    def c_call_custom_filter(self):
        d = self.list_query({"Filter": [{"name": "Product_Show", "value": "Active"}], "Count": 0})
        want = [p["id"] for p in self.products if p["active"]]
        expect(self.ids(d["data"]) == want, f"{len(d['data'])} records, want {len(want)}")

    def c_call_json_file_and_stdin(self):
        path = self.write_private("q.json", json.dumps({"Count": 2, "Offset": 1}))
        out = self.ok_json(["call", "ProductList_Load_Query", "--json", "@" + path], self.miva_env())
        self.diff_records(self.call_data(out)["data"], self.public(self.products[1:3]))
        out = self.ok_json(["call", "ProductList_Load_Query", "--json", "-"], self.miva_env(),
                           stdin=json.dumps({"Count": 1, "Offset": 4}))
        self.diff_records(self.call_data(out)["data"], self.public(self.products[4:5]))

    def c_call_compact(self):
        p = self.cli(["call", "ProductList_Load_Query", "--compact", "--json", '{"Count": 3}'],
                     self.miva_env())
        expect(p.returncode == 0, f"exit {p.returncode}, stderr: {one_line(p.stderr)}")
        expect(len(p.stdout.strip().splitlines()) == 1, f"{len(p.stdout.strip().splitlines())} lines")
        self.diff_records(self.call_data(json.loads(p.stdout))["data"], self.public(self.products[:3]))

    def _list_paging(self, extra_args, page):
        before = len(self.store_log())
        recs = self.ok_lines(["list", "ProductList_Load_Query", "--page-size", str(page), *extra_args],
                             self.miva_env())
        got = self.ids(recs)
        expect(len(got) == len(set(got)), f"duplicates: {[i for i in set(got) if got.count(i) > 1][:10]}")
        self.diff_records(recs, self.public(self.products))
        reqs = [e for e in self.store_log()[before:]
                if (e.get("body") or {}).get("Function") == "ProductList_Load_Query"]
        counts = [e["body"].get("Count") for e in reqs]
        expect(all(isinstance(c, int) and 0 < c <= page for c in counts),
               f"page requests asked for Count {counts} (page size {page})")
        expect(len(reqs) >= math.ceil(self.n / page), f"{len(reqs)} requests for {self.n} records / {page}")
        expect(all(e["response"].get("success") is True for e in reqs), "a page request failed")

    def c_list_all(self):
        self._list_paging([], 7)

    def c_list_concurrency(self):
        self._list_paging(["--concurrency", "4"], 6)

    def c_list_big_page(self):
        recs = self.ok_lines(["list", "ProductList_Load_Query", "--page-size", str(self.n + 10)],
                             self.miva_env())
        self.diff_records(recs, self.public(self.products))

    def c_list_sort_filter(self):
        q = {"Sort": "-price", "Filter": [{"name": "search", "value": [
            {"field": "price", "operator": "GT", "value": "30"}]}]}
        for extra in ([], ["--concurrency", "3"]):
            recs = self.ok_lines(["list", "ProductList_Load_Query", "--page-size", "5", "--json",
                                  json.dumps(q), *extra], self.miva_env())
            want = sorted([p for p in self.products if p["price"] > 30], key=lambda p: -p["price"])
            self.diff_records(recs, self.public(want))

    def c_list_count_limit(self):
        recs = self.ok_lines(["list", "ProductList_Load_Query", "--page-size", "4", "--json",
                              '{"Count": 10}'], self.miva_env())
        self.diff_records(recs, self.public(self.products[:10]))

    def c_list_offset(self):
        recs = self.ok_lines(["list", "ProductList_Load_Query", "--page-size", "4", "--json",
                              json.dumps({"Offset": self.n - 6})], self.miva_env())
        self.diff_records(recs, self.public(self.products[-6:]))

    def c_list_output_file(self):
        path = os.path.join(self.tmp, "out.jsonl")
        p = self.cli(["list", "ProductList_Load_Query", "--page-size", "9", "-o", path], self.miva_env())
        expect(p.returncode == 0, f"exit {p.returncode}, stderr: {one_line(p.stderr)}")
        expect(os.path.exists(path), "no output file")
        with open(path, encoding="utf-8") as f:
            recs = [json.loads(line) for line in f if line.strip()]
        self.diff_records(recs, self.public(self.products))

    def c_storelist(self):
        before = len(self.store_log())
        out = self.ok_json(["call", "StoreList_Load_Query", "--json", '{"Store_Code": null}'],
                           self.miva_env())
        d = self.call_data(out)
        want = miva_store.make_stores(self.store_code)
        self.diff_records(d.get("data"), want)
        expect(d.get("total_count") == len(want), f"total_count {d.get('total_count')}")
        reqs = [e for e in self.store_log()[before:]
                if (e.get("body") or {}).get("Function") == "StoreList_Load_Query"]
        expect(len(reqs) == 1, f"{len(reqs)} StoreList requests")
        self._storelist_body = reqs[0]["body"]

    def c_storelist_no_store_code(self):
        b = getattr(self, "_storelist_body", None)
        expect(b is not None, "StoreList call did not reach the store")
        expect("Store_Code" not in b, f"domain-level request carried Store_Code={b.get('Store_Code')!r}")

    def readback(self, code):
        d = self.list_query({"Filter": [{"name": "search", "value": [
            {"field": "code", "operator": "EQ", "value": code}]}]})
        expect(len(d["data"]) == 1, f"readback of {code}: {len(d['data'])} records")
        return d["data"][0]

    def c_update_by_code(self):
        p = self.products[9]
        out = self.cli(["call", "Product_Update", "--json",
                        json.dumps({"Edit_Product": p["code"], "Product_Price": 9.5})], self.miva_env())
        expect(out.returncode == 0, f"exit {out.returncode}, stderr: {one_line(out.stderr)}")
        got = self.readback(p["code"])
        expect(got.get("price") == 9.5, f"price after update {got.get('price')}, want 9.5")
        p["price"] = 9.5
        p["dt_updated"] = got.get("dt_updated")
        self.diff_records([got], self.public([p]))

    def c_update_by_id(self):
        p = self.products[19]
        out = self.cli(["call", "Product_Update", "--json",
                        json.dumps({"Product_ID": p["id"], "Product_Price": 123.45,
                                    "Product_Name": "Renamed ñandú “x” 20"}, ensure_ascii=False)],
                       self.miva_env())
        expect(out.returncode == 0, f"exit {out.returncode}, stderr: {one_line(out.stderr)}")
        got = self.readback(p["code"])
        expect(got.get("price") == 123.45, f"price {got.get('price')}")
        expect(got.get("name") == "Renamed ñandú “x” 20", f"name {got.get('name')!r}")
        p.update(price=123.45, name="Renamed ñandú “x” 20", dt_updated=got.get("dt_updated"))

    def c_list_after_update(self):
        recs = self.ok_lines(["list", "ProductList_Load_Query", "--page-size", "8"], self.miva_env())
        self.diff_records(recs, self.public(self.products))

    def c_update_validation(self):
        p = self.products[29]
        r = self.refused(["call", "Product_Update", "--json",
                          json.dumps({"Product_ID": p["id"], "Product_Price": "abc"})], self.miva_env())
        expect("MER-JSN-00018" in r.stderr, f"no error code in stderr: {one_line(r.stderr)}")
        expect("Product_Price" in r.stderr, f"no rejected field in stderr: {one_line(r.stderr)}")
        got = self.readback(p["code"])
        expect(got.get("price") == p["price"], f"price changed to {got.get('price')}")

    def c_update_not_found(self):
        r = self.refused(["call", "Product_Update", "--json",
                          json.dumps({"Edit_Product": "NO-SUCH-CODE", "Product_Price": 1})], self.miva_env())
        expect("MER-PRD-00001" in r.stderr or "not found" in r.stderr.lower(),
               f"stderr: {one_line(r.stderr)}")

    def _denied(self, r, *words):
        low = r.stderr.lower()
        expect("access_denied" in low or "access denied" in low,
               f"no access-denied message on stderr: {one_line(r.stderr)}")
        for w in words:
            expect(w.lower() in low, f"no {w!r} on stderr: {one_line(r.stderr)}")

    def c_wrong_signing_key(self):
        bad = base64.b64encode(secrets.token_bytes(32)).decode()
        r = self.refused(["call", "ProductList_Load_Query", "--json", '{"Count": 1}'],
                         self.miva_env(MIVA_SIGNING_KEY=bad))
        self._denied(r, "Invalid request signature")
        expect(self.token not in r.stderr and bad not in r.stderr, "a credential appears on stderr")

    def c_wrong_token(self):
        r = self.refused(["call", "ProductList_Load_Query", "--json", '{"Count": 1}'],
                         self.miva_env(MIVA_API_TOKEN="fake9" + secrets.token_hex(14)))
        self._denied(r)

    def c_sha1(self):
        before = len(self.store_log())
        d = self.list_query({"Count": 3, "Offset": 2}, MIVA_DIGEST="sha1")
        self.diff_records(d["data"], self.public(self.products[2:5]))
        schemes = [e["auth_scheme"] for e in self.store_log()[before:]]
        expect(schemes == ["MIVA-HMAC-SHA1"], f"schemes sent: {schemes}")

    def c_sha256_explicit(self):
        before = len(self.store_log())
        self.list_query({"Count": 1}, MIVA_DIGEST="sha256")
        schemes = [e["auth_scheme"] for e in self.store_log()[before:]]
        expect(schemes == ["MIVA-HMAC-SHA256"], f"schemes sent: {schemes}")

    def c_token_only(self):
        before = len(self.store_log())
        d = self.list_query({"Count": 2}, MIVA_DIGEST="none", MIVA_API_TOKEN=self.plain_token,
                            MIVA_SIGNING_KEY=None)
        self.diff_records(d["data"], self.public(self.products[:2]))
        schemes = [e["auth_scheme"] for e in self.store_log()[before:]]
        expect(schemes == ["MIVA"], f"schemes sent: {schemes}")

    def c_signing_key_file_padded(self):
        path = self.write_private("signing.key", self.key + "=" * (-len(self.key) % 4) + "\n")
        d = self.list_query({"Count": 1}, MIVA_SIGNING_KEY=None, MIVA_SIGNING_KEY_FILE=path)
        self.diff_records(d["data"], self.public(self.products[:1]))

    def c_bad_key_is_config_error(self):
        before = len(self.store_log())
        self.refused(["call", "ProductList_Load_Query", "--json", '{"Count": 1}'],
                     self.miva_env(MIVA_SIGNING_KEY="not*base64!key"), want_rc=2)
        sent = len(self.store_log()) - before
        expect(sent == 0, f"{sent} request(s) sent with a non-base64 key")

    def c_wrong_store(self):
        r = self.refused(["call", "ProductList_Load_Query", "--json", '{"Count": 1}'],
                         self.miva_env(MIVA_STORE_CODE="NO_SUCH_STORE"))
        expect("MER-JSN-00005" in r.stderr or "not found" in r.stderr.lower(),
               f"stderr: {one_line(r.stderr)}")

    def c_connection_refused(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()  # nothing listens there now
        r = self.refused(["call", "ProductList_Load_Query", "--json", '{"Count": 1}'],
                         self.miva_env(MIVA_ENDPOINT=f"http://127.0.0.1:{port}/mm5/json.mvc"), want_rc=2)
        expect(r.stderr.strip(), "no message on stderr")

    # =======================================================================
    # Miravia checks

    def mcall(self, args, env=None):
        return self.ok_json(["miravia", "call", *args], env or self.miravia_env())

    def c_mv_seller(self):
        before = len(self.gw_log())
        out = self.mcall(["/seller/get"])
        expect(self.mdata(out) == miravia_gateway.SELLER, f"data {one_line(out, 300)}")
        e = self.gw_log()[before:]
        expect(len(e) == 1 and e[0]["method"] == "GET" and e[0]["api"] == "/seller/get",
               f"requests {[(x['method'], x.get('api')) for x in e]}")

    def c_mv_get_params(self):
        oid = sorted(miravia_gateway.make_orders())[2]
        before = len(self.gw_log())
        out = self.mcall(["/order/get", "--param", f"order_id={oid}"])
        expect(self.mdata(out) == miravia_gateway.make_orders()[oid], f"data {one_line(out, 300)}")
        e = self.gw_log()[before:][0]
        expect(e["method"] == "GET" and "order_id" in e["query_names"], f"sent {e['method']} {e['query_names']}")
        for k in ("app_key", "timestamp", "sign_method", "sign", "access_token"):
            expect(k in e["query_names"], f"system parameter {k} not in the query")

    def c_mv_get_special(self):
        out = self.mcall(["/products/get", "--param", f"search={miravia_gateway.SPECIAL_NAME}",
                          "--param", "filter=all"])
        d = self.mdata(out)
        want = [p for p in self.items if p["attributes"]["name"] == miravia_gateway.SPECIAL_NAME]
        expect(d.get("products") == want and d.get("total_products") == 1, f"data {one_line(d, 300)}")

    def c_mv_post(self):
        before = len(self.gw_log())
        out = self.mcall(["/products/get", "--post", "--param", f"search={miravia_gateway.SPECIAL_NAME}",
                          "--param", "limit=5"])
        d = self.mdata(out)
        want = [p for p in self.items if p["attributes"]["name"] == miravia_gateway.SPECIAL_NAME]
        expect(d.get("products") == want, f"data {one_line(d, 300)}")
        e = self.gw_log()[before:][0]
        expect(e["method"] == "POST", f"method {e['method']}")
        expect((e["content_type"] or "").startswith("application/x-www-form-urlencoded"),
               f"content type {e['content_type']}")
        expect("search" in e["body_names"], f"business parameters not in the form body: {e['body_names']}")

    def c_mv_upload(self):
        data = bytes(range(256)) * 3 + b"\r\n--\r\n\x00\xff" + secrets.token_bytes(500)
        path = self.write_private("picture.jpg", data)
        before = len(self.gw_log())
        out = self.mcall(["/image/upload", "--post", "--param", "note=hola ñ", "--file", f"image={path}"])
        img = (self.mdata(out) or {}).get("image") or {}
        expect(img.get("hash_code") == hashlib.sha256(data).hexdigest() and img.get("size") == len(data),
               f"server got {img.get('size')} bytes, want {len(data)} (or a different hash)")
        e = self.gw_log()[before:][0]
        expect((e["content_type"] or "").startswith("multipart/form-data"), f"content type {e['content_type']}")
        expect([f["name"] for f in e["files"]] == ["image"], f"file parts {e['files']}")
        expect(e["params"].get("note") == "hola ñ", f"text part note = {e['params'].get('note')!r}")

    def c_mv_paging(self):
        got, total, offset, limit, calls = [], None, 0, 6, 0
        while True:
            calls += 1
            expect(calls <= self.m, "too many pages")
            d = self.mdata(self.mcall(["/products/get", "--param", f"offset={offset}",
                                       "--param", f"limit={limit}"]))
            total = d["total_products"] if total is None else total
            expect(d["total_products"] == total, "total_products changed between pages")
            page = d["products"]
            got.extend(p["item_id"] for p in page)
            offset += limit
            if not page or offset >= total:
                break
        want = [p["item_id"] for p in self.items]
        expect(total == len(want), f"total_products {total}, want {len(want)}")
        expect(got == want, f"{len(got)} items, want {len(want)} in order")
        expect(calls == math.ceil(len(want) / limit), f"{calls} calls")

    def c_mv_param_byte_order(self):
        # Names whose byte order differs from a case-folded or locale-aware sort
        # (the wire-facts /test/api vector); the gateway ignores them but signs them.
        out = self.mcall(["/products/get", "--param", "Z9=7", "--param", "_x=3", "--param", "B=2",
                          "--param", "item_ids=6", "--param", "item_id=5", "--param", "limit=2"])
        d = self.mdata(out)
        expect([p["item_id"] for p in d.get("products", [])] == [p["item_id"] for p in self.items[:2]],
               f"data {one_line(d, 200)}")

    def c_mv_empty_param(self):
        # An empty value: skipped when signing (the document's Java/C# rule).
        out = self.mcall(["/products/get", "--param", "search=", "--param", "limit=3"])
        d = self.mdata(out)
        expect(d.get("total_products") == len(self.items), f"data {one_line(d, 200)}")

    def _mv_refused(self, args, env, code):
        r = self.refused(["miravia", "call", *args], env)
        expect(code in r.stderr, f"no {code} on stderr: {one_line(r.stderr)}")
        return r

    def c_mv_wrong_secret(self):
        bad = "fake-wrong-" + secrets.token_hex(8)
        r = self._mv_refused(["/seller/get"], self.miravia_env(MIRAVIA_APP_SECRET=bad), "IncompleteSignature")
        expect(bad not in r.stderr and bad not in r.stdout, "the secret appears in the output")

    def c_mv_error_request_id(self):
        before = len(self.gw_log())
        r = self._mv_refused(["/seller/get"], self.miravia_env(MIRAVIA_APP_SECRET="fake-x"), "IncompleteSignature")
        ids = [e.get("request_id") for e in self.gw_log()[before:]]
        expect(ids and ids[-1] and ids[-1] in r.stderr, f"request_id {ids[-1:]} not on stderr: {one_line(r.stderr)}")

    def c_mv_wrong_token(self):
        self._mv_refused(["/seller/get"], self.miravia_env(MIRAVIA_ACCESS_TOKEN="fake-at-wrong"),
                         "IllegalAccessToken")

    def c_mv_wrong_app_key(self):
        self._mv_refused(["/seller/get"], self.miravia_env(MIRAVIA_APP_KEY="999"), "InvalidAppKey")

    def c_mv_unknown_api(self):
        self._mv_refused(["/no/such/api"], self.miravia_env(), "InvalidApi")

    def c_mv_secret_file(self):
        path = self.write_private("app.secret", self.app_secret + "\n")
        out = self.mcall(["/seller/get"], self.miravia_env(MIRAVIA_APP_SECRET=None, MIRAVIA_APP_SECRET_FILE=path))
        expect(self.mdata(out) == miravia_gateway.SELLER, f"data {one_line(out, 300)}")

    @staticmethod
    def token_field(out, name):
        if isinstance(out, dict):
            if name in out:
                return out[name]
            if isinstance(out.get("data"), dict):
                return out["data"].get(name)
        return None

    def c_mv_token_create(self):
        # The code comes from the environment (an argument would show in `ps`).
        out = self.ok_json(["miravia", "token", "create"], self.miravia_env(MIRAVIA_AUTH_CODE=self.auth_code))
        expect(self.token_field(out, "access_token") == self.access_token, f"output {one_line(out, 300)}")
        expect(self.token_field(out, "refresh_token") == self.refresh_token, "no refresh_token")

    def c_mv_token_refresh(self):
        out = self.ok_json(["miravia", "token", "refresh"],
                           self.miravia_env(MIRAVIA_REFRESH_TOKEN=self.refresh_token))
        expect(self.token_field(out, "access_token") == self.access_token, f"output {one_line(out, 300)}")

    # =======================================================================

    def all_checks(self):
        return [
            ("miva_call_count", self.c_call_count),
            ("miva_wire_envelope", self.c_wire_envelope),
            ("miva_call_offset", self.c_call_offset),
            ("miva_call_sort_desc", self.c_call_sort_desc),
            ("miva_call_sort_asc", self.c_call_sort_asc),
            ("miva_call_filter_gt_like_ondemand", self.c_call_filter),
            ("miva_call_filter_in", self.c_call_filter_in),
            ("miva_call_filter_lt_or_eq", self.c_call_filter_or),
            ("miva_call_custom_filter", self.c_call_custom_filter),
            ("miva_call_json_file_and_stdin", self.c_call_json_file_and_stdin),
            ("miva_call_compact", self.c_call_compact),
            ("miva_list_all_in_order", self.c_list_all),
            ("miva_list_concurrency", self.c_list_concurrency),
            ("miva_list_page_bigger_than_store", self.c_list_big_page),
            ("miva_list_sort_filter", self.c_list_sort_filter),
            ("miva_list_count_limit", self.c_list_count_limit),
            ("miva_list_offset", self.c_list_offset),
            ("miva_list_output_file", self.c_list_output_file),
            ("miva_storelist", self.c_storelist),
            ("miva_storelist_no_store_code", self.c_storelist_no_store_code),
            ("miva_update_by_code", self.c_update_by_code),
            ("miva_update_by_id", self.c_update_by_id),
            ("miva_list_after_update", self.c_list_after_update),
            ("miva_update_validation_error", self.c_update_validation),
            ("miva_update_not_found", self.c_update_not_found),
            ("miva_wrong_signing_key", self.c_wrong_signing_key),
            ("miva_wrong_token", self.c_wrong_token),
            ("miva_sha1", self.c_sha1),
            ("miva_sha256_explicit", self.c_sha256_explicit),
            ("miva_token_only", self.c_token_only),
            ("miva_signing_key_file_padded", self.c_signing_key_file_padded),
            ("miva_non_base64_key_exit_2", self.c_bad_key_is_config_error),
            ("miva_wrong_store_code", self.c_wrong_store),
            ("miva_connection_refused_exit_2", self.c_connection_refused),
            ("miravia_seller_get", self.c_mv_seller),
            ("miravia_get_with_params", self.c_mv_get_params),
            ("miravia_get_special_chars", self.c_mv_get_special),
            ("miravia_post_form", self.c_mv_post),
            ("miravia_file_upload", self.c_mv_upload),
            ("miravia_paging_products", self.c_mv_paging),
            ("miravia_param_names_byte_order", self.c_mv_param_byte_order),
            ("miravia_empty_param", self.c_mv_empty_param),
            ("miravia_wrong_secret", self.c_mv_wrong_secret),
            ("miravia_error_request_id", self.c_mv_error_request_id),
            ("miravia_wrong_access_token", self.c_mv_wrong_token),
            ("miravia_wrong_app_key", self.c_mv_wrong_app_key),
            ("miravia_unknown_api", self.c_mv_unknown_api),
            ("miravia_secret_file", self.c_mv_secret_file),
            ("miravia_token_create", self.c_mv_token_create),
            ("miravia_token_refresh", self.c_mv_token_refresh),
        ]


def main(argv=None):
    ap = argparse.ArgumentParser(description="Blind acceptance check of the miva CLI")
    ap.add_argument("--miva-bin", required=True, help="path of the built `miva` binary")
    ap.add_argument("--products", type=int, default=53, help="products in the Miva store")
    ap.add_argument("--items", type=int, default=23, help="products in the Miravia gateway")
    ap.add_argument("-k", "--only", help="run only checks whose name contains this")
    args = ap.parse_args(argv)

    binp = os.path.abspath(args.miva_bin)
    if not (os.path.isfile(binp) and os.access(binp, os.X_OK)):
        print(f"FAIL setup: {binp} is not an executable file")
        print("0 passed, 1 failed")
        return 2

    chk = Check(binp, args.products, args.items)
    atexit.register(chk.cleanup)

    def on_signal(signum, _frame):
        chk.cleanup()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        try:
            chk.start()
        except Exception as e:
            print(f"FAIL setup: {one_line(e)}")
            print("0 passed, 1 failed")
            return 2
        for name, fn in chk.all_checks():
            if args.only and args.only not in name:
                continue
            chk.run_check(name, fn)
    finally:
        chk.cleanup()
    print(f"{chk.passed} passed, {chk.failed} failed")
    return 1 if chk.failed else 0


if __name__ == "__main__":
    sys.exit(main())
