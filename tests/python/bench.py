"""`cargo xtask bench`: our figures beside the official SDKs' and OpenSSL's,
measured in one run on this machine, written to target/bench/report.md.

Usage (xtask passes these):
  python bench.py --miva target/release/miva --bench target/bench/miva-bench-ring \
      --bench-aws-lc target/release/miva-bench \
      --key crates/miva-sign/tests/data/rsa2048-pkcs1.pem --out target/bench [--quick]

`--bench` is built with miva-sign's defaults (RSA through ring), and
`--bench-aws-lc` with its `aws-lc` feature; the RSA rows show both.

Every figure is a median over repeated runs, and each ratio is taken between
figures measured in this same run. A peer that cannot be run gives a row that
says so; nothing is estimated. Internal subcommands (`peer-micro`,
`peer-calls`, `peer-export`, `rss`) run the peers in child processes so that
their memory and ours are measured the same way.
"""
import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import timeit

# Clearly fake credentials, made for the benchmark's own mock stores.
STORE = "BENCH"
TOKEN = "0000000000000000000000000000be01"
# For wrk, which replays one fixed request: no timestamp required.
TOKEN_WRK = "0000000000000000000000000000be02"
KEY = "ZmFrZS1zaWduaW5nLWtleS1mb3ItdGhlLWJlbmNobWFyayE="

# The twelve parameters of the Miravia figure (also in bench/src/main.rs).
MIRAVIA_PARAMS = {
    "app_key": "100001",
    "timestamp": "1700000000000",
    "sign_method": "sha256",
    "access_token": "fake-access-token-0123456789",
    "partner_id": "miva-rs-bench",
    "filter": "live",
    "offset": "0",
    "limit": "50",
    "update_after": "2023-11-14T00:00:00+00:00",
    "create_after": "2023-01-01T00:00:00+00:00",
    "sku_seller_list": '["SKU-1","SKU-2"]',
    "options": "1",
}


def body_629():
    """The same 629-byte body as bench/src/main.rs."""
    body = (b'{"Store_Code":"STORE","Function":"ProductList_Load_Query",'
            b'"Miva_Request_Timestamp":1700000000,"Count":10,"Offset":0,'
            b'"Filter":[{"name":"search","value":[{"field":"code","operator":'
            b'"LIKE","value":"%SHIRT%"}]}],"Sort":"-id",')
    return body.ljust(628, b" ") + b"}"


def per_op_ns(fn, rounds=15, target=0.06):
    """Median ns per call over `rounds` rounds of about `target` seconds."""
    timer = timeit.Timer(fn)
    n, _ = timer.autorange()
    n = max(1, int(n * target / 0.2))
    return statistics.median(t / n * 1e9 for t in timer.repeat(repeat=rounds, number=n))


# ---- subcommands run in child processes -----------------------------------

def peer_micro(pem):
    out = {}
    body = body_629()
    try:
        from merchantapi.authenticator import TokenAuthenticator, SSHPrivateKeyAuthenticator
        token = TokenAuthenticator("0f90f77b58ca98836eba3d50f526f523",
                                   "NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ", "sha256")
        out["merchantapi_hmac_629_ns"] = per_op_ns(
            lambda: token.generate_authentication_header(body))
        ssh = SSHPrivateKeyAuthenticator("apiuser", pem, None,
                                         SSHPrivateKeyAuthenticator.DIGEST_SSH_RSA_SHA256)
        out["merchantapi_rsa2048_header_ns"] = per_op_ns(
            lambda: ssh.generate_authentication_header(body), rounds=7, target=0.3)
    except Exception as e:  # the row says why
        out["merchantapi_error"] = "%s: %s" % (type(e).__name__, e)
    try:
        from lazop_sdk.base import sign
        out["lazop_sign_12_ns"] = per_op_ns(
            lambda: sign("fake-app-secret-for-the-benchmark", "/products/get", MIRAVIA_PARAMS))
    except Exception as e:
        out["lazop_error"] = "%s: %s" % (type(e).__name__, e)
    print(json.dumps(out))


def merchantapi_client(url):
    from merchantapi.client import Client
    return Client(url, TOKEN, KEY, {"default_store_code": STORE,
                                    "signing_key_digest": "sha256"})


def peer_calls(url, n):
    import merchantapi.request as rq
    client = merchantapi_client(url)
    for _ in range(20):
        rq.ProductListLoadQuery(client).set_count(10).send()
    latencies = []
    start = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        r = rq.ProductListLoadQuery(client).set_count(10).send()
        latencies.append((time.perf_counter() - t) * 1e6)
        if not r.is_success() or len(r.get_products()) != 10:
            raise SystemExit("merchantapi call failed: %s" % r.get_error_message())
    seconds = time.perf_counter() - start
    latencies.sort()
    pct = lambda p: latencies[round((len(latencies) - 1) * p)]
    print(json.dumps({"calls": n, "seconds": seconds, "calls_per_s": n / seconds,
                      "p50_us": pct(0.5), "p99_us": pct(0.99)}))


def peer_export(url, page_size, out_path):
    """What an integrator writes with merchantapi: a paging loop writing
    each product as a JSON line."""
    import merchantapi.request as rq
    client = merchantapi_client(url)
    offset = 0
    with open(out_path, "w") as out:
        while True:
            r = rq.ProductListLoadQuery(client).set_offset(offset).set_count(page_size).send()
            if not r.is_success():
                raise SystemExit("merchantapi page failed: %s" % r.get_error_message())
            page = r.get_products()
            for p in page:
                out.write(json.dumps(p.to_dict(), separators=(",", ":"), default=float))
                out.write("\n")
            offset += len(page)
            if not page or offset >= r.get_total_count():
                break


def rss(cmd):
    """Runs cmd; prints its wall time and peak RSS (this process has no
    other child, so RUSAGE_CHILDREN is the command's own peak)."""
    start = time.perf_counter()
    code = subprocess.run(cmd, stdout=subprocess.DEVNULL).returncode
    wall = time.perf_counter() - start
    kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"exit": code, "seconds": wall, "peak_rss_kib": kib}))


# ---- the driver -----------------------------------------------------------

def child_json(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd[:3]), p.returncode,
                                               p.stderr.strip()[-400:]))
    return json.loads(p.stdout.strip().splitlines()[-1])


def measured(cmd):
    """Wall time and peak RSS of cmd, in a fresh wrapper process."""
    r = child_json([sys.executable, __file__, "rss", "--"] + cmd)
    if r["exit"] != 0:
        raise RuntimeError("%s exited %d" % (" ".join(cmd[:3]), r["exit"]))
    return r


def progress(text):
    print("bench: " + text, file=sys.stderr, flush=True)


class Mock:
    def __init__(self, miva, products, creds, extra=()):
        self.proc = subprocess.Popen(
            [miva, "mock", "--credentials", creds, "--products", str(products)] + list(extra),
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http://"):
            raise RuntimeError("miva mock did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def openssl_speed(args, pattern, runs):
    """Median of the first number `pattern` captures in `openssl speed`."""
    exe = shutil.which("openssl")
    if not exe:
        return None, "openssl not installed"
    values = []
    for _ in range(runs):
        p = subprocess.run([exe, "speed"] + args, capture_output=True, text=True)
        m = re.search(pattern, p.stdout, re.M)
        if p.returncode != 0 or not m:
            return None, "openssl speed %s: unreadable output" % " ".join(args)
        values.append(float(m.group(1)))
    return statistics.median(values), None


def wrk_rate(url, connections, tmp):
    """Requests/s that wrk gets from the mock for one fixed signed request:
    the server's capacity, to show it is not what limits the client rows."""
    import base64
    import hashlib
    import hmac
    exe = shutil.which("wrk")
    if not exe:
        return None, "wrk not installed"
    body = '{"Store_Code":"%s","Function":"ProductList_Load_Query","Count":10}' % STORE
    sig = base64.b64encode(hmac.new(base64.b64decode(KEY), body.encode(),
                                    hashlib.sha256).digest()).decode()
    script = os.path.join(tmp, "wrk.lua")
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\nwrk.body = %s\n' % json.dumps(body))
        f.write('wrk.headers["Content-Type"] = "application/json"\n')
        f.write('wrk.headers["X-Miva-API-Authorization"] = "MIVA-HMAC-SHA256 %s:%s"\n'
                % (TOKEN_WRK, sig))
        # Count answers that are not a successful list page.
        f.write('bad = 0\nresponse = function(status, headers, body)\n'
                '  if status ~= 200 or not string.find(body, \'"success":1\', 1, true) then\n'
                '    bad = bad + 1\n  end\nend\n')
    p = subprocess.run([exe, "-t", "1" if connections == 1 else "2", "-c", str(connections),
                        "-d", "3s", "-s", script, url], capture_output=True, text=True)
    m = re.search(r"Requests/sec:\s+([\d.]+)", p.stdout)
    if p.returncode != 0 or not m:
        return None, "wrk failed: %s" % (p.stderr.strip() or p.stdout.strip())[-200:]
    if "Non-2xx" in p.stdout:
        return None, "wrk got error answers"
    return float(m.group(1)), None


def ids(path):
    with open(path) as f:
        return [json.loads(line)["id"] for line in f]


def fmt_ns(ns):
    if ns is None:
        return "n/a"
    if ns >= 1e6:
        return "%.2f ms" % (ns / 1e6)
    if ns >= 1e3:
        return "%.2f µs" % (ns / 1e3)
    return "%.0f ns" % ns


def main():
    if len(sys.argv) > 1 and sys.argv[1] in ("peer-micro", "peer-calls", "peer-export", "rss"):
        cmd, rest = sys.argv[1], sys.argv[2:]
        if cmd == "peer-micro":
            return peer_micro(rest[0])
        if cmd == "peer-calls":
            return peer_calls(rest[0], int(rest[1]))
        if cmd == "peer-export":
            return peer_export(rest[0], int(rest[1]), rest[2])
        return rss(rest[1:] if rest[:1] == ["--"] else rest)

    ap = argparse.ArgumentParser()
    ap.add_argument("--miva", required=True)
    ap.add_argument("--bench", required=True)
    ap.add_argument("--bench-aws-lc")
    ap.add_argument("--key", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true",
                    help="fewer repetitions and records (a smoke run, not for the report)")
    a = ap.parse_args()
    runs = 1 if a.quick else 3
    n_calls = 200 if a.quick else 2000
    big, small = (10000, 1000) if a.quick else (100000, 10000)
    page = 1000
    os.makedirs(a.out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="miva-bench-")
    creds = os.path.join(tmp, "credentials.json")
    with open(creds, "w") as f:
        json.dump({"store_code": STORE, "tokens": [
            {"token": TOKEN, "signing_key": KEY, "digest": "sha256", "require_timestamp": True},
            {"token": TOKEN_WRK, "signing_key": KEY, "digest": "sha256",
             "require_timestamp": False}]}, f)
    os.chmod(creds, 0o600)
    env = dict(os.environ, MIVA_API_TOKEN=TOKEN, MIVA_SIGNING_KEY=KEY, MIVA_STORE_CODE=STORE,
               MIVA_DIGEST="sha256")
    os.environ.update(env)  # for `miva list` run under the rss wrapper
    rows = []  # (figure, ours, peer or floor, ratio, target, met)

    def row(figure, ours, peer, ratio, target, met):
        rows.append((figure, ours, peer, ratio, target, met))
        progress("%s: ours %s, compared with %s -> %s" % (figure, ours, peer, ratio))

    progress("in-process figures (ours)")
    micro = child_json([a.bench, "micro", a.key])
    micro_aws = child_json([a.bench_aws_lc, "micro", a.key]) if a.bench_aws_lc else None
    progress("in-process figures (merchantapi, lazop-sdk)")
    try:
        peers = child_json([sys.executable, __file__, "peer-micro", a.key])
    except Exception as e:
        peers = {"merchantapi_error": str(e), "lazop_error": str(e)}
    progress("openssl speed")
    sha_bps, sha_err = openssl_speed(["-seconds", "2", "-bytes", "1048576", "-evp", "sha256"],
                                     r"^sha256\s+([\d.]+)k", runs)
    if sha_bps is not None:
        sha_bps *= 1000
    rsa_s, rsa_err = openssl_speed(["-seconds", "2", "rsa2048"],
                                   r"^rsa\s+2048 bits\s+([\d.]+)s", runs)

    ours = micro["hmac_629_ns"]
    r = ours / micro["raw_hmac_629_ns"]
    row("HMAC-SHA256 header, 629-byte body", fmt_ns(ours),
        "raw HMAC (same crates) %s" % fmt_ns(micro["raw_hmac_629_ns"]),
        "%.2fx the floor" % r, "within 1.3x", r <= 1.3)
    if "merchantapi_hmac_629_ns" in peers:
        r = peers["merchantapi_hmac_629_ns"] / ours
        row("HMAC-SHA256 header, 629-byte body", fmt_ns(ours),
            "merchantapi 2.7.0 TokenAuthenticator %s" % fmt_ns(peers["merchantapi_hmac_629_ns"]),
            "%.1fx faster" % r, "at least 8x faster", r >= 8)
    else:
        row("HMAC-SHA256 header, 629-byte body", fmt_ns(ours),
            "merchantapi: not run (%s)" % peers.get("merchantapi_error"), "n/a", "at least 8x", None)
    ours_bps = (1 << 20) / (micro["hmac_1mib_ns"] / 1e9)
    if sha_bps:
        r = ours_bps / sha_bps
        row("HMAC header, 1 MiB body", "%.2f GB/s" % (ours_bps / 1e9),
            "openssl speed -evp sha256 %.2f GB/s" % (sha_bps / 1e9),
            "%.2fx OpenSSL" % r, "at least 0.8x", r >= 0.8)
    else:
        row("HMAC header, 1 MiB body", "%.2f GB/s" % (ours_bps / 1e9),
            "OpenSSL: %s" % sha_err, "n/a", "at least 0.8x", None)
    for m in [micro] + ([micro_aws] if micro_aws else []):
        ours = m["rsa2048_sha256_header_ns"]
        figure = "RSA-2048 SHA2-256 header (%s)" % (
            "default: ring" if m["rsa_backend"] == "ring" else "feature aws-lc")
        if rsa_s:
            r = ours / (rsa_s * 1e9)
            row(figure, fmt_ns(ours), "openssl speed rsa2048 sign %s" %
                fmt_ns(rsa_s * 1e9), "%.2fx OpenSSL's time" % r, "at most 1.2x", r <= 1.2)
        else:
            row(figure, fmt_ns(ours), "OpenSSL: %s" % rsa_err, "n/a", "at most 1.2x", None)
        if "merchantapi_rsa2048_header_ns" in peers:
            r = peers["merchantapi_rsa2048_header_ns"] / ours
            row(figure, fmt_ns(ours), "merchantapi SSHPrivateKeyAuthenticator %s"
                % fmt_ns(peers["merchantapi_rsa2048_header_ns"]), "%.1fx faster" % r,
                "at least 2x faster", r >= 2)
    ours = micro["miravia_12_params_ns"]
    if "lazop_sign_12_ns" in peers:
        r = peers["lazop_sign_12_ns"] / ours
        row("Miravia signature, 12 parameters", fmt_ns(ours),
            "lazop-sdk 1.0.3 sign %s" % fmt_ns(peers["lazop_sign_12_ns"]),
            "%.1fx faster" % r, "at least 10x faster", r >= 10)
    else:
        row("Miravia signature, 12 parameters", fmt_ns(ours),
            "lazop-sdk: not run (%s)" % peers.get("lazop_error"), "n/a", "at least 10x", None)

    progress("starting miva mock with %d products" % big)
    mock = Mock(a.miva, big, creds)
    try:
        progress("%d calls over loopback, ours then merchantapi, %d runs each" % (n_calls, runs))
        ours_runs, peer_runs, peer_err = [], [], None
        for _ in range(runs):
            ours_runs.append(child_json([a.bench, "calls", mock.url, str(n_calls)], env))
            if peer_err is None:
                try:
                    peer_runs.append(child_json(
                        [sys.executable, __file__, "peer-calls", mock.url, str(n_calls)]))
                except Exception as e:
                    peer_err = str(e)
        med = lambda rs, k: statistics.median(x[k] for x in rs)
        o = (med(ours_runs, "calls_per_s"), med(ours_runs, "p50_us"), med(ours_runs, "p99_us"))
        ours_text = "%.0f calls/s (p50 %.0f µs, p99 %.0f µs)" % o
        if peer_runs:
            p = (med(peer_runs, "calls_per_s"), med(peer_runs, "p50_us"), med(peer_runs, "p99_us"))
            r = o[0] / p[0]
            row("%d signed ProductList_Load_Query calls (Count 10), loopback" % n_calls, ours_text,
                "merchantapi Client %.0f calls/s (p50 %.0f µs, p99 %.0f µs)" % p,
                "%.1fx the calls/s" % r, "at least 5x", r >= 5)
        else:
            row("%d signed calls" % n_calls, ours_text, "merchantapi: not run (%s)" % peer_err,
                "n/a", "at least 5x", None)

        capacity = {}
        for conns in (1, 16):
            rate, err = wrk_rate(mock.url, conns, tmp)
            capacity[("wrk", conns)] = rate
            row("mock capacity, same list query (wrk, %d connection%s)" %
                (conns, "" if conns == 1 else "s"), "our client: %.0f calls/s" % o[0],
                ("wrk: %.0f requests/s" % rate) if rate else err,
                ("our client at %.0f%% of it" % (100 * o[0] / rate)) if rate else "n/a",
                "the mock is not the limit", None if rate is None else rate > o[0])
        # The same capacity from a load generator that is not our client
        # (raw keep-alive sockets, one pre-signed request), so the row
        # exists where wrk is not installed.
        load_env = dict(env, MIVA_WRK_TOKEN=TOKEN_WRK)
        load_runs = [child_json([a.bench, "load", mock.url, "16", "1" if a.quick else "3"],
                                load_env) for _ in range(runs)]
        capacity[("load", 16)] = med(load_runs, "requests_per_s")
        row("mock capacity, same list query (miva-bench load, 16 connections)",
            "our client: %.0f calls/s" % o[0],
            "load generator: %.0f requests/s" % capacity[("load", 16)],
            "our client at %.0f%% of it" % (100 * o[0] / capacity[("load", 16)]),
            "the mock is not the limit", capacity[("load", 16)] > o[0])

        progress("async client: %d sequential calls, then 64 in flight, %d runs each"
                 % (n_calls, runs))
        async_runs = [child_json([a.bench, "async-calls", mock.url, str(n_calls)], env)
                      for _ in range(runs)]
        ao = (med(async_runs, "calls_per_s"), med(async_runs, "p50_us"), med(async_runs, "p99_us"))
        r = ao[0] / o[0]
        row("async client, %d sequential signed calls, loopback" % n_calls,
            "%.0f calls/s (p50 %.0f µs, p99 %.0f µs)" % ao,
            "blocking client %.0f calls/s (same run)" % o[0],
            "%.2fx the blocking calls/s" % r, "at least 0.95x", r >= 0.95)
        inflight = [child_json([a.bench, "async-inflight", mock.url, str(4 * n_calls), "64"], env)
                    for _ in range(runs)]
        ai = med(inflight, "calls_per_s")
        for (tool, conns), rate in sorted(capacity.items()):
            if conns != 16:
                continue
            label = "wrk" if tool == "wrk" else "miva-bench load"
            if rate:
                r = ai / rate
                row("async client, 64 calls in flight on one current-thread runtime",
                    "%.0f calls/s" % ai, "%s, 16 connections: %.0f requests/s" % (label, rate),
                    "%.2fx" % r, "at least 0.7x", r >= 0.7)
            else:
                row("async client, 64 calls in flight on one current-thread runtime",
                    "%.0f calls/s" % ai, "%s: not run (not installed)" % label, "n/a",
                    "at least 0.7x", None)

        progress("export of %d products: ours (and %d for the memory baseline), then merchantapi"
                 % (big, small))
        ours_out = os.path.join(tmp, "ours.jsonl")
        list_cmd = [a.miva, "list", "ProductList_Load_Query", "--endpoint", mock.url,
                    "--page-size", str(page), "-o", ours_out]
        ours_big, ours_small = [], []
        for _ in range(runs):
            ours_big.append(measured(list_cmd))
            ours_small.append(measured(list_cmd + ["--json", '{"Count": %d}' % small]))
        ours_ids = None
        peer_big, peer_err = [], None
        peer_out = os.path.join(tmp, "peer.jsonl")
        for _ in range(runs):
            try:
                peer_big.append(measured([sys.executable, __file__, "peer-export", mock.url,
                                          str(page), peer_out]))
            except Exception as e:
                peer_err = str(e)
                break
        # The last `ours` run wrote the small export; redo the full one to compare.
        subprocess.run(list_cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        ours_ids = ids(ours_out)
        if len(ours_ids) != big or ours_ids != sorted(ours_ids):
            raise RuntimeError("our export is wrong: %d records" % len(ours_ids))
        ob = statistics.median(x["seconds"] for x in ours_big)
        mem_big = statistics.median(x["peak_rss_kib"] for x in ours_big)
        mem_small = statistics.median(x["peak_rss_kib"] for x in ours_small)
        ours_text = "%.2f s, peak RSS %.1f MiB" % (ob, mem_big / 1024)
        if peer_big and not peer_err:
            same = ids(peer_out) == ours_ids
            pb = statistics.median(x["seconds"] for x in peer_big)
            pm = statistics.median(x["peak_rss_kib"] for x in peer_big)
            r = pb / ob
            row("export of %d products (`miva list`, %d per page)" % (big, page), ours_text,
                "merchantapi paging loop %.2f s, peak RSS %.1f MiB%s" %
                (pb, pm / 1024, "" if same else " (RECORDS DIFFER)"),
                "%.1fx faster" % r, "at least 3x", r >= 3 and same)
        else:
            row("export of %d products" % big, ours_text,
                "merchantapi: not run (%s)" % peer_err, "n/a", "at least 3x", None)
        r = mem_big / mem_small
        row("peak memory, export of %d vs %d products" % (big, small),
            "%.1f MiB" % (mem_big / 1024), "ours at %d: %.1f MiB" % (small, mem_small / 1024),
            "%.2fx" % r, "within 1.2x", r <= 1.2)

        progress("export of %d products, 8 pages in flight: blocking then async client" % big)
        exports = {}
        for driver in ("blocking", "async"):
            cmd = [a.bench, "export", driver, mock.url, str(page), "8"]
            exports[driver] = ([measured(cmd) for _ in range(runs)],
                               [measured(cmd + [str(small)]) for _ in range(runs)])
        secs = {d: statistics.median(x["seconds"] for x in exports[d][0]) for d in exports}
        peak = {d: (statistics.median(x["peak_rss_kib"] for x in exports[d][0]),
                    statistics.median(x["peak_rss_kib"] for x in exports[d][1])) for d in exports}
        r = secs["blocking"] / secs["async"]
        row("async export of %d products, 8 pages of %d in flight (multi-thread runtime)" % (big, page),
            "%.2f s, peak RSS %.1f MiB" % (secs["async"], peak["async"][0] / 1024),
            "blocking client, 8 threads: %.2f s, peak RSS %.1f MiB" %
            (secs["blocking"], peak["blocking"][0] / 1024),
            "%.2fx the blocking speed" % r, "at least 1x", r >= 1.0)
        r = peak["async"][0] / peak["async"][1]
        row("async export peak memory, %d vs %d products" % (big, small),
            "%.1f MiB" % (peak["async"][0] / 1024),
            "async at %d: %.1f MiB" % (small, peak["async"][1] / 1024),
            "%.2fx" % r, "within 1.2x", r <= 1.2)
    finally:
        mock.stop()

    pages, per_page = 50, 100
    progress("%d pages from a mock adding 20 ms per request" % pages)
    slow = Mock(a.miva, pages * per_page, creds, ["--latency-ms", "20"])
    try:
        outs, secs = {}, {}
        for k in (1, 8):
            outs[k] = os.path.join(tmp, "slow-%d.jsonl" % k)
            cmd = [a.miva, "list", "ProductList_Load_Query", "--endpoint", slow.url,
                   "--page-size", str(per_page), "--concurrency", str(k), "-o", outs[k]]
            secs[k] = statistics.median(measured(cmd)["seconds"] for _ in range(runs))
        with open(outs[1], "rb") as f1, open(outs[8], "rb") as f8:
            same = f1.read() == f8.read()
        r = secs[1] / secs[8]
        row("%d pages, mock adds 20 ms per request" % pages,
            "--concurrency 8: %.2f s" % secs[8],
            "--concurrency 1: %.2f s%s" % (secs[1], "" if same else " (OUTPUT DIFFERS)"),
            "%.1fx faster" % r, "at least 5x, same records in order", r >= 5 and same)
    finally:
        slow.stop()
    shutil.rmtree(tmp, ignore_errors=True)

    lines = [
        "# `cargo xtask bench` report",
        "",
        "Machine: %s, %d CPUs. %s. Medians of %d runs; ratios within this run." % (
            os.uname().machine, os.cpu_count() or 0,
            time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), runs),
        "",
        "| what | ours | peer or floor | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for figure, ours, peer, ratio, target, met in rows:
        mark = "n/a" if met is None else ("yes" if met else "**no**")
        lines.append("| %s | %s | %s | %s | %s | %s |" % (figure, ours, peer, ratio, target, mark))
    text = "\n".join(lines) + "\n"
    with open(os.path.join(a.out, "report.md"), "w") as f:
        f.write(text)
    print(text)
    print("written to %s" % os.path.join(a.out, "report.md"))


if __name__ == "__main__":
    main()
