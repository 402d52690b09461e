"""Lazada's official Python SDK (lazop-sdk 1.0.3) against `miva miravia mock`.

Usage: python lazop_mock_check.py PATH/TO/miva

Starts the mock gateway, drives it with lazop's own client (GET, POST,
paging, a multipart file upload, token creation, a wrong secret), prints
`ok NAME` / `FAIL NAME: why` per check and ends with `N passed, M failed`.
"""
import json
import os
import subprocess
import sys
import tempfile

APP_KEY = "100200"
SECRET = "lazop-check-secret-not-real"
TOKEN = "lazop-check-token-not-real"


def main():
    miva = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="lazop-check-")
    # lazop creates ~/logs on import: keep it in the temporary folder.
    os.environ["HOME"] = tmp
    secret_file = os.path.join(tmp, "secret")
    with open(secret_file, "w") as f:
        f.write(SECRET)
    os.chmod(secret_file, 0o600)
    server = subprocess.Popen(
        [miva, "miravia", "mock", "--app-key", APP_KEY, "--app-secret-file", secret_file],
        env=dict(os.environ, MIRAVIA_ACCESS_TOKEN=TOKEN),  # never an argument
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    passed, failed = 0, 0
    try:
        url = server.stdout.readline().strip()
        import lazop_sdk as lazop

        client = lazop.LazopClient(url, APP_KEY, SECRET)
        checks = []

        def check(name, fn):
            checks.append((name, fn))

        def run(api, method="GET", params=None, files=None, token=TOKEN, c=None):
            request = lazop.LazopRequest(api, method)
            for k, v in (params or {}).items():
                request.add_api_param(k, v)
            for k, v in (files or {}).items():
                request.add_file_param(k, v)
            return (c or client).execute(request, token)

        def seller():
            r = run("/seller/get")
            assert r.code == "0", (r.code, r.message)
            assert r.body["data"]["seller_id"] == 42

        def paging():
            seen, offset = [], 0
            while True:
                r = run("/products/get", params={"offset": str(offset), "limit": "7", "filter": "live"})
                assert r.code == "0", (r.code, r.message)
                page = r.body["data"]["products"]
                seen += [p["item_id"] for p in page]
                offset += len(page)
                if len(page) < 7:
                    break
            assert seen == list(range(1000001, 1000031)), seen

        def create():
            payload = json.dumps({"Request": {"Product": {"PrimaryCategory": "10002019",
                "Attributes": {"name": "Camiseta algodón ñ & <b>suave</b> 100%"},
                "Skus": {"Sku": [{"SellerSku": "CAM-01", "quantity": "3", "price": "9.99"}]}}}},
                ensure_ascii=False)
            r = run("/product/create", "POST", {"payload": payload})
            assert r.code == "0", (r.code, r.message)
            assert r.body["data"]["sku_list"][0]["seller_sku"] == "CAM-01"

        def upload():
            data = bytes(range(256)) * 40
            r = run("/image/upload", "POST", files={"image": ("foto.jpg", data)})
            assert r.code == "0", (r.code, r.message)
            assert r.body["data"]["image"]["size"] == len(data), r.body

        def order():
            r = run("/order/get", params={"order_id": "5000003"})
            assert r.code == "0", (r.code, r.message)
            assert r.body["data"]["order_id"] == 5000003

        def token_create():
            r = run("/auth/token/create", params={"code": "0_100200_abc"}, token=None)
            assert r.code == "0", (r.code, r.message)
            assert r.body["access_token"].startswith("mock-access-"), r.body

        def wrong_secret():
            bad = lazop.LazopClient(url, APP_KEY, "not-the-secret")
            r = run("/seller/get", c=bad)
            assert r.code == "IncompleteSignature", (r.code, r.message)
            assert r.type == "ISV" and r.request_id, (r.type, r.request_id)

        def wrong_token():
            r = run("/seller/get", token="stolen")
            assert r.code == "IllegalAccessToken", (r.code, r.message)

        for name, fn in [("GET /seller/get", seller), ("GET /products/get paging", paging),
                         ("POST /product/create", create), ("multipart /image/upload", upload),
                         ("GET /order/get", order), ("/auth/token/create", token_create),
                         ("wrong secret", wrong_secret), ("wrong access token", wrong_token)]:
            check(name, fn)
        for name, fn in checks:
            try:
                fn()
                print(f"ok {name}")
                passed += 1
            except Exception as e:  # report every check, not just the first failure
                print(f"FAIL {name}: {e!r}")
                failed += 1
    finally:
        server.kill()
        server.wait()
    print(f"lazop-sdk: {passed} passed, {failed} failed")
    sys.exit(1 if failed or passed == 0 else 0)


if __name__ == "__main__":
    main()
