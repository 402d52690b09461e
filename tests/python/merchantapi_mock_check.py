"""Miva's official Python SDK (merchantapi 2.7.0) against `miva mock`.

Usage: python merchantapi_mock_check.py PATH/TO/miva PATH/TO/key.pem PATH/TO/key.pub

Starts the mock store with a credentials file (a token-only token, HMAC-SHA1,
HMAC-SHA256 and an SSH user), drives it with merchantapi's own clients and
request classes (list queries with the SDK's paging and filters, writes, a
validation error, a multicall that the mock splits into 206 partial answers,
a wrong signing key), prints `ok NAME` / `FAIL NAME: why` per check and ends
with `N passed, M failed`. The expected records follow from the mock's seeding
rule (ids 1..N, codes P000001...).
"""
import json
import os
import subprocess
import sys
import tempfile

# Clearly fake test credentials, made for this check only.
STORE = "PYCHECK"
PRODUCTS = 57
TOKEN_NONE = "00000000000000000000000000000a01"
TOKEN_SHA1 = "00000000000000000000000000000a02"
TOKEN_SHA256 = "00000000000000000000000000000a03"
KEY_SHA1 = "ZmFrZS1zaGExLWtleS1mb3ItdGhlLW1lcmNoYW50YXBpLWNoZWNr"
KEY_SHA256 = "ZmFrZS1zaGEyNTYta2V5LWZvci10aGUtbWVyY2hhbnRhcGktY2hlY2s="
WRONG_KEY = "d3Jvbmcta2V5LWZvci10aGUtbWVyY2hhbnRhcGktY2hlY2s="
SSH_USER = "ssh-check"
BUDGET = 3


def main():
    miva, pem, pub = sys.argv[1], sys.argv[2], sys.argv[3]
    tmp = tempfile.mkdtemp(prefix="merchantapi-check-")
    with open(pub) as f:
        public_key = f.read().strip()
    creds = {
        "store_code": STORE,
        "tokens": [
            {"token": TOKEN_NONE, "digest": "none", "require_timestamp": True},
            {"token": TOKEN_SHA1, "signing_key": KEY_SHA1, "digest": "sha1",
             "require_timestamp": True},
            {"token": TOKEN_SHA256, "signing_key": KEY_SHA256, "digest": "sha256",
             "require_timestamp": True},
        ],
        "ssh_users": [{"username": SSH_USER, "public_key": public_key}],
    }
    creds_file = os.path.join(tmp, "credentials.json")
    with open(creds_file, "w") as f:
        json.dump(creds, f)
    os.chmod(creds_file, 0o600)
    server = subprocess.Popen(
        [miva, "mock", "--credentials", creds_file, "--products", str(PRODUCTS),
         "--multicall-budget", str(BUDGET)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    passed, failed = 0, 0
    try:
        url = server.stdout.readline().strip()
        import merchantapi.request as rq
        from merchantapi.client import Client, SSHClient
        from merchantapi.authenticator import SSHPrivateKeyAuthenticator as Ssh
        from merchantapi.listquery import FilterExpression
        from merchantapi.multicall import MultiCallRequest, MultiCallOperation

        options = {"default_store_code": STORE}

        def token_client(token, key, digest):
            return Client(url, token, key, dict(options, signing_key_digest=digest))

        clients = {
            "token only": token_client(TOKEN_NONE, "", None),
            "HMAC-SHA1": token_client(TOKEN_SHA1, KEY_SHA1, "sha1"),
            "HMAC-SHA256": token_client(TOKEN_SHA256, KEY_SHA256, "sha256"),
            "SSH RSA SHA2-256": SSHClient(url, SSH_USER, pem, None, Ssh.DIGEST_SSH_RSA_SHA256,
                                          dict(options)),
            "SSH RSA SHA2-512": SSHClient(url, SSH_USER, pem, None, Ssh.DIGEST_SSH_RSA_SHA512,
                                          dict(options)),
        }
        client = clients["HMAC-SHA256"]
        checks = []

        def check(name, fn):
            checks.append((name, fn))

        def ok(response):
            assert response.is_success(), (response.get_error_code(),
                                            response.get_error_message())
            return response

        def authenticates(c):
            def run():
                r = ok(rq.ProductListLoadQuery(c).set_count(5).set_sort("id").send())
                assert r.get_total_count() == PRODUCTS, r.get_total_count()
                codes = [p.get_code() for p in r.get_products()]
                assert codes == ["P%06d" % i for i in range(1, 6)], codes
            return run

        for name, c in clients.items():
            check("authenticates: " + name, authenticates(c))

        def paging():
            seen, offset = [], 0
            while True:
                r = ok(rq.ProductListLoadQuery(client).set_sort("id", "DESC")
                       .set_offset(offset).set_count(10).send())
                page = r.get_products()
                assert r.get_start_offset() == offset, r.get_start_offset()
                seen += [p.get_id() for p in page]
                offset += len(page)
                if not page or offset >= r.get_total_count():
                    break
            assert seen == list(range(PRODUCTS, 0, -1)), seen

        def filters():
            request = rq.ProductListLoadQuery(client).set_sort("id")
            expr = request.filter_expression()
            expr.is_in("code", "P000002,P000004,P000050").or_x(
                request.filter_expression().equal("id", 7))
            r = ok(request.set_filters(expr).send())
            ids = [p.get_id() for p in r.get_products()]
            assert ids == [2, 4, 7, 50], ids

        def other_lists():
            cats = ok(rq.CategoryListLoadQuery(client).set_count(3).send()).get_categories()
            assert cats and all(c.get_code() for c in cats), cats
            custs = ok(rq.CustomerListLoadQuery(client).set_count(3).send()).get_customers()
            assert custs and all(c.get_login() for c in custs), custs
            orders = ok(rq.OrderListLoadQuery(client).set_count(2)
                        .set_on_demand_columns(["items"]).send()).get_orders()
            assert orders and all(o.get_items() for o in orders), orders

        def writes():
            insert = rq.ProductInsert(client).set_product_code("PY-NEW-1") \
                .set_product_name("Inserted by merchantapi").set_product_price(12.5)
            ok(insert.send())
            ok(rq.ProductUpdate(client).set_edit_product("PY-NEW-1")
               .set_product_price(13.75).send())
            r = ok(rq.ProductListLoadQuery(client).set_filters(
                rq.ProductListLoadQuery(client).filter_expression().equal("code", "PY-NEW-1"))
                .send())
            assert [p.get_price() for p in r.get_products()] == [13.75], r.get_products()
            ok(rq.ProductDelete(client).set_edit_product("PY-NEW-1").send())
            r = ok(rq.ProductListLoadQuery(client).set_filters(
                rq.ProductListLoadQuery(client).filter_expression().equal("code", "PY-NEW-1"))
                .send())
            assert r.get_total_count() == 0, r.get_total_count()

        def validation_error():
            r = rq.ProductInsert(client).set_product_code("P000001") \
                .set_product_name("duplicate").send()
            assert not r.is_success()
            assert r.get_error_code().startswith("MER-"), r.get_error_code()
            assert "P000001" in r.get_error_message(), r.get_error_message()

        def multicall():
            request = MultiCallRequest(client)
            request.set_auto_timeout_continue(True)
            for i in range(1, 8):
                request.add_request(rq.ProductUpdate(client).set_edit_product("P%06d" % i)
                                    .set_product_price(200 + i))
            op = MultiCallOperation()
            for i in range(8, 11):
                op.add_request(rq.ProductUpdate(client).set_edit_product("P%06d" % i)
                               .set_product_price(200 + i))
            request.add_operation(op)
            # Count the SDK's HTTP requests and statuses: the mock answers at
            # most BUDGET operations per response, so 10 take several.
            import merchantapi.client as mc
            statuses, post = [], mc.requests.post

            def counting_post(*args, **kwargs):
                r = post(*args, **kwargs)
                statuses.append(r.status_code)
                return r
            mc.requests.post = counting_post
            try:
                response = request.send()
            finally:
                mc.requests.post = post
            assert response.is_success(), response.data
            assert statuses[0] == 206 and statuses[-1] == 200 and len(statuses) > 2, statuses
            responses = response.get_responses()
            assert len(responses) == 10, len(responses)
            assert all(r.is_success() for r in responses), [r.data for r in responses]
            r = ok(rq.ProductListLoadQuery(client).set_sort("id").set_count(10).send())
            prices = [p.get_price() for p in r.get_products()]
            assert prices == [200 + i for i in range(1, 11)], prices

        def wrong_key():
            c = token_client(TOKEN_SHA256, WRONG_KEY, "sha256")
            r = rq.ProductListLoadQuery(c).set_count(1).send()
            assert not r.is_success()
            assert r.get_error_code() == "access_denied", r.get_error_code()
            assert r.get_error_message() == "Invalid request signature", r.get_error_message()

        check("list paging with the SDK's offset/count", paging)
        check("filters: IN and OR", filters)
        check("category, customer and order lists (on-demand items)", other_lists)
        check("insert, update, delete", writes)
        check("validation error", validation_error)
        check("multicall with 206 continuation and an iterated operation", multicall)
        check("wrong signing key is refused", wrong_key)

        for name, fn in checks:
            try:
                fn()
                passed += 1
                print("ok", name)
            except Exception as e:  # report every check, whatever failed
                failed += 1
                print("FAIL %s: %r" % (name, e))
    finally:
        server.kill()
        server.wait()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
