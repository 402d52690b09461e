"""Our `miva` CLI against servers whose signature checks are the official
SDKs' own code, not ours.

Usage: python sdk_verified_servers.py PATH/TO/miva PATH/TO/key.pem

Two small servers on loopback, written against the vendor documents with
Python's standard library:

- a Miravia / Lazada gateway that recomputes every request's `sign` with
  `lazop_sdk.base.sign` (lazop-sdk 1.0.3) over the parameters it received
  (query string, form body or multipart text parts; files excluded);
- a Miva JSON endpoint that recomputes the expected authorization header
  with merchantapi 2.7.0's `TokenAuthenticator` and
  `SSHPrivateKeyAuthenticator` over the exact body bytes it received.

Then it runs `miva miravia call` (GET, POST, multipart upload, awkward
characters, a wrong secret) and `miva call` / `miva list` (HMAC-SHA256,
SSH, paging, a wrong key) against them. Prints `ok NAME` / `FAIL NAME: why`
per check and ends with `N passed, M failed`.
"""
import email.parser
import email.policy
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

# Clearly fake credentials, made for this check only.
APP_KEY = "500600"
APP_SECRET = "sdk-verified-secret-not-real"
ACCESS_TOKEN = "sdk-verified-token-not-real"
MIVA_TOKEN = "000000000000000000000000000sdk01"
MIVA_KEY = "ZmFrZS1rZXktZm9yLXRoZS1zZGstdmVyaWZpZWQtY2hlY2s="
SSH_USER = "sdk-verified-user"
STORE = "SDKV"
PRODUCTS = 23


def gateway_handler():
    from lazop_sdk.base import sign

    class Gateway(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, obj):
            body = json.dumps(obj).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def error(self, code, message):
            self.answer({"type": "ISV", "code": code, "message": message,
                         "request_id": "sdkv-%d" % time.monotonic_ns()})

        def do_GET(self):
            url = urlsplit(self.path)
            self.call("GET", url.path, parse_qsl(url.query, keep_blank_values=True), {})

        def do_POST(self):
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            ctype = self.headers.get("Content-Type", "")
            params, files = [], {}
            if ctype.startswith("multipart/form-data"):
                msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                    b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
                for part in msg.iter_parts():
                    name = part.get_param("name", header="content-disposition")
                    payload = part.get_payload(decode=True)
                    if part.get_filename() is not None:
                        files[name] = payload
                    else:
                        params.append((name, payload.decode("utf-8")))
            elif ctype.startswith("application/x-www-form-urlencoded"):
                params = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
            else:
                return self.error("InvalidContentType", "unexpected %r" % ctype)
            params = params + parse_qsl(url.query, keep_blank_values=True)
            self.call("POST", url.path, params, files)

        def call(self, method, path, pairs, files):
            if not path.startswith("/rest/"):
                return self.error("InvalidApiPath", path)
            api = path[len("/rest"):]
            names = [k for k, _ in pairs]
            if len(names) != len(set(names)):
                return self.error("DuplicateParameter", "a parameter was sent twice")
            params = dict(pairs)
            claimed = params.pop("sign", None)
            if claimed is None:
                return self.error("MissingParameter", "sign")
            if params.get("app_key") != APP_KEY:
                return self.error("InvalidAppKey", "unknown app_key")
            if sign(APP_SECRET, api, params) != claimed:
                return self.error("IncompleteSignature",
                                  "The request signature does not conform to platform standards")
            if abs(int(params.get("timestamp", "0")) - time.time() * 1000) > 7200 * 1000:
                return self.error("InvalidTimestamp", "timestamp too far from now")
            if params.get("access_token") != ACCESS_TOKEN:
                return self.error("IllegalAccessToken", "The specified access token is invalid")
            self.answer({
                "code": "0",
                "request_id": "sdkv-ok",
                "data": {
                    "api": api,
                    "method": method,
                    "params": {k: v for k, v in params.items()
                               if k not in ("access_token", "timestamp")},
                    "files": {k: {"size": len(v), "sha256": hashlib.sha256(v).hexdigest()}
                              for k, v in files.items()},
                },
            })

    return Gateway


def store_handler(pem):
    from merchantapi.authenticator import SSHPrivateKeyAuthenticator, TokenAuthenticator
    hmac_auth = TokenAuthenticator(MIVA_TOKEN, MIVA_KEY, "sha256")
    ssh_auth = SSHPrivateKeyAuthenticator(SSH_USER, pem, None,
                                          SSHPrivateKeyAuthenticator.DIGEST_SSH_RSA_SHA256)

    class Store(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, obj):
            body = json.dumps(obj).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            header = self.headers.get("X-Miva-API-Authorization", "")
            # The SDK computes the header it would send for these exact bytes.
            expected = [hmac_auth.generate_authentication_header(body),
                        ssh_auth.generate_authentication_header(body)]
            if header not in expected:
                return self.answer({"success": 0, "error_code": "access_denied",
                                    "error_message": "Invalid request signature"})
            request = json.loads(body)
            if request.get("Store_Code") != STORE:
                return self.answer({"success": 0, "error_code": "invalid_store",
                                    "error_message": "unknown store"})
            if not isinstance(request.get("Miva_Request_Timestamp"), int):
                return self.answer({"success": 0, "error_code": "access_denied",
                                    "error_message": "Missing timestamp"})
            if request.get("Function") != "ProductList_Load_Query":
                return self.answer({"success": 0, "error_code": "invalid_function",
                                    "error_message": "not served here"})
            offset = request.get("Offset", 0)
            count = request.get("Count", 0) or PRODUCTS
            ids = range(offset + 1, min(PRODUCTS, offset + count) + 1)
            self.answer({"success": 1, "data": {
                "total_count": PRODUCTS, "start_offset": offset,
                "data": [{"id": i, "code": "P%06d" % i, "price": i * 1.5} for i in ids]}})

    return Store


def serve(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, "http://127.0.0.1:%d" % server.server_address[1]


def main():
    miva, pem = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="sdk-verified-")
    os.environ["HOME"] = tmp  # lazop writes ~/logs on import
    gateway, gateway_url = serve(gateway_handler())
    store, store_url = serve(store_handler(pem))
    base_env = {k: v for k, v in os.environ.items()
                if not k.startswith(("MIVA_", "MIRAVIA_", "RUST_LOG"))}

    def run(args, **env):
        return subprocess.run([miva] + args, capture_output=True, text=True,
                              env=dict(base_env, **env), timeout=60)

    miravia_env = {"MIRAVIA_ENDPOINT": gateway_url + "/rest", "MIRAVIA_APP_KEY": APP_KEY,
                   "MIRAVIA_APP_SECRET": APP_SECRET, "MIRAVIA_ACCESS_TOKEN": ACCESS_TOKEN}
    hmac_env = {"MIVA_ENDPOINT": store_url + "/mm5/json.mvc", "MIVA_STORE_CODE": STORE,
                "MIVA_API_TOKEN": MIVA_TOKEN, "MIVA_SIGNING_KEY": MIVA_KEY}
    ssh_env = {"MIVA_ENDPOINT": store_url + "/mm5/json.mvc", "MIVA_STORE_CODE": STORE,
               "MIVA_SSH_USER": SSH_USER, "MIVA_SSH_KEY_FILE": pem}
    upload = os.path.join(tmp, "image.jpg")
    with open(upload, "wb") as f:
        f.write(bytes(range(256)) * 40)
    awkward = 'a b&c=d/é+%20?#"\'<>'
    payload = json.dumps({"Request": {"Product": {"Attributes": {"name": "Café ñ & <b>"}}}},
                         ensure_ascii=False)

    def ok_json(p):
        assert p.returncode == 0, (p.returncode, p.stderr)
        return json.loads(p.stdout)

    def miravia_get():
        data = ok_json(run(["miravia", "call", "/seller/get"], **miravia_env))["data"]
        assert data["api"] == "/seller/get" and data["method"] == "GET", data

    def miravia_awkward_values():
        data = ok_json(run(["miravia", "call", "/products/get", "--param", "filter=" + awkward,
                            "--param", "offset=0"], **miravia_env))["data"]
        assert data["params"]["filter"] == awkward, data

    def miravia_post():
        data = ok_json(run(["miravia", "call", "/product/create", "--post",
                            "--param", "payload=" + payload], **miravia_env))["data"]
        assert data["method"] == "POST" and data["params"]["payload"] == payload, data

    def miravia_multipart():
        data = ok_json(run(["miravia", "call", "/image/upload", "--file", "image=" + upload],
                           **miravia_env))["data"]
        with open(upload, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        assert data["files"] == {"image": {"size": 10240, "sha256": digest}}, data

    def miravia_wrong_secret():
        p = run(["miravia", "call", "/seller/get"],
                **dict(miravia_env, MIRAVIA_APP_SECRET="another-secret"))
        assert p.returncode == 1, (p.returncode, p.stderr)
        assert p.stderr.startswith("IncompleteSignature: "), p.stderr

    def miva_call(env):
        def check():
            data = ok_json(run(["call", "ProductList_Load_Query", "--json", '{"Count": 2}'],
                               **env))
            assert [r["code"] for r in data["data"]] == ["P000001", "P000002"], data
            assert data["total_count"] == PRODUCTS, data
        return check

    def miva_list():
        p = run(["list", "ProductList_Load_Query", "--page-size", "5"], **hmac_env)
        assert p.returncode == 0, p.stderr
        ids = [json.loads(line)["id"] for line in p.stdout.splitlines()]
        assert ids == list(range(1, PRODUCTS + 1)), ids

    def miva_wrong_key():
        p = run(["call", "ProductList_Load_Query"],
                **dict(hmac_env, MIVA_SIGNING_KEY="d3Jvbmcta2V5LW5vdC1yZWFs"))
        assert p.returncode == 1, (p.returncode, p.stderr)
        assert p.stderr.startswith("access_denied: Invalid request signature"), p.stderr

    checks = [
        ("miravia call GET, lazop-sdk's sign", miravia_get),
        ("miravia call GET with awkward characters", miravia_awkward_values),
        ("miravia call POST form with a JSON payload", miravia_post),
        ("miravia call multipart upload (file not signed)", miravia_multipart),
        ("miravia call with a wrong secret is refused", miravia_wrong_secret),
        ("miva call HMAC-SHA256, merchantapi's TokenAuthenticator", miva_call(hmac_env)),
        ("miva call SSH RSA SHA2-256, merchantapi's SSH authenticator", miva_call(ssh_env)),
        ("miva list pages through every record", miva_list),
        ("miva call with a wrong key is refused", miva_wrong_key),
    ]
    passed = failed = 0
    for name, fn in checks:
        try:
            fn()
            print("ok   " + name)
            passed += 1
        except Exception as e:
            print("FAIL %s: %r" % (name, e))
            failed += 1
    gateway.shutdown()
    store.shutdown()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
