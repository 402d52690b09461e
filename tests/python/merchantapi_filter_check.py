"""Miva's official Python SDK (merchantapi 2.7.0) and miva_envelope's
`Search` select the same records from `miva mock` for the same search.

Usage: python merchantapi_filter_check.py PATH/TO/miva PATH/TO/search_cases

`search_cases` (crates/miva-envelope/examples/search_cases.rs) prints the
Filter arrays `Search` sends for the cases below; this script builds each
case with merchantapi's FilterExpression (AND, OR, nested, an AND after an
OR), sends both to one `miva mock` (the SDK's through its own client, ours
through `miva call`), and checks that both return exactly the records the
boolean expression selects from the store's products. Prints `ok NAME` /
`FAIL NAME: why` per check and ends with `N passed, M failed`.
"""
import json
import os
import subprocess
import sys

PRODUCTS = 60


def main():
    miva, cases_bin = sys.argv[1], sys.argv[2]
    ours = json.loads(subprocess.run([cases_bin], check=True, capture_output=True,
                                     text=True).stdout)
    server = subprocess.Popen([miva, "mock", "--products", str(PRODUCTS)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    passed, failed = 0, 0
    try:
        env = dict(os.environ)
        url = server.stdout.readline().strip()
        while "MIVA_DIGEST" not in env or env.get("MIVA_ENDPOINT") != url:
            line = server.stdout.readline()
            if not line:
                raise SystemExit("miva mock ended before printing its credentials")
            if line.startswith("export "):
                name, _, value = line[len("export "):].strip().partition("=")
                env[name] = value.strip("'\"")
        import merchantapi.request as rq
        from merchantapi.client import Client
        client = Client(url, env["MIVA_API_TOKEN"], env["MIVA_SIGNING_KEY"],
                        {"default_store_code": env["MIVA_STORE_CODE"]})

        def sdk_ids(build):
            request = rq.ProductListLoadQuery(client).set_sort("id")
            if build is not None:
                request.set_filters(build(request.filter_expression))
            r = request.send()
            assert r.is_success(), (r.get_error_code(), r.get_error_message())
            return [p.get_id() for p in r.get_products()], r.get_products()

        def our_ids(name):
            body = json.dumps({"Sort": "id", "Count": 0, "Filter": ours[name]})
            out = subprocess.run([miva, "call", "ProductList_Load_Query", "--json", body],
                                 env=env, check=True, capture_output=True, text=True).stdout
            return [p["id"] for p in json.loads(out)["data"]]

        _, products = sdk_ids(None)
        assert len(products) == PRODUCTS, len(products)
        cases = {
            "and": (lambda fe: fe().less_than_equal("id", 20).and_greater_than("price", 300),
                    lambda p: p.get_id() <= 20 and p.get_price() > 300),
            "or": (lambda fe: fe().equal("id", 3).or_equal("id", 9)
                   .or_x(fe().is_in("code", "P000030,P000031")),
                   lambda p: p.get_id() in (3, 9) or p.get_code() in ("P000030", "P000031")),
            "nested": (lambda fe: fe().is_true("active")
                       .and_x(fe().less_than("id", 10).or_greater_than("id", 50)),
                       lambda p: p.get_active() and (p.get_id() < 10 or p.get_id() > 50)),
            # The SDK writes a chain flat, where a store binds AND first, and
            # a plain and_greater_than after a group goes without its AND;
            # the builder's (a OR b) AND c is two and_x groups there.
            "mixed": (lambda fe: fe().and_x(fe().less_than("id", 5).or_greater_than("id", 55))
                      .and_x(fe().greater_than("price", 100)),
                      lambda p: (p.get_id() < 5 or p.get_id() > 55) and p.get_price() > 100),
        }
        for name, (build, pred) in cases.items():
            try:
                want = [p.get_id() for p in products if pred(p)]
                assert 0 < len(want) < PRODUCTS, "fixture selects %d records" % len(want)
                sdk, _ = sdk_ids(build)
                assert sdk == want, "merchantapi: %s, want %s" % (sdk, want)
                got = our_ids(name)
                assert got == want, "Search: %s, want %s" % (got, want)
                passed += 1
                print("ok", "filters agree with merchantapi: " + name)
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
