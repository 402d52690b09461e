#!/usr/bin/env python3
"""Generate the published test vectors in tests/vectors/.

Expected values come only from third parties, never from this workspace's
Rust code:

* merchantapi 2.7.0 (Miva's official Python SDK, PyPI): its
  TokenAuthenticator / SSHPrivateKeyAuthenticator compute the
  X-Miva-API-Authorization header value for the exact body bytes.
* lazop-sdk 1.0.3 (Lazada/Miravia's official Python SDK, PyPI): its module
  level sign(secret, api, parameters) computes the Miravia `sign`.
* the OpenSSL command line (`openssl dgst -sha256|-sha512 -sign`) computes
  RSASSA-PKCS1-v1_5 signatures; ssh-keygen / openssl / pycryptodome make
  (and re-encrypt) the RSA test keys.
* wire-facts.json and miravia-document.json are transcribed by hand from
  shared/notes/wire-facts.md and the Miravia document (literals below; nothing
  is computed for them).

Run it through run.sh, or directly with any python3: outside the venv it
creates tests/gen/.venv, installs requirements.txt there and re-executes
itself with the venv's interpreter. Output is deterministic: RSA keys are
generated once into tests/gen/keys/ and reused; everything else (signing
keys, tokens, bodies) is derived from fixed labels.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

GEN_DIR = Path(__file__).resolve().parent
REPO = GEN_DIR.parent.parent
VECTORS_DIR = REPO / "tests" / "vectors"
KEYS_DIR = GEN_DIR / "keys"
VENV_DIR = GEN_DIR / ".venv"
REQUIREMENTS = GEN_DIR / "requirements.txt"

HEADER_NAME = "X-Miva-API-Authorization"


# --------------------------------------------------------------------------
# venv bootstrap
# --------------------------------------------------------------------------

def _pins() -> dict[str, str]:
    pins = {}
    for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def _pins_satisfied() -> bool:
    from importlib import metadata

    for name, version in _pins().items():
        try:
            if metadata.version(name) != version:
                return False
        except metadata.PackageNotFoundError:
            return False
    return True


def ensure_venv() -> None:
    """Re-execute inside tests/gen/.venv with the pinned SDKs installed."""
    in_venv = Path(sys.prefix).resolve() == VENV_DIR.resolve()
    if in_venv:
        if not _pins_satisfied():
            subprocess.run(
                [sys.executable, "-m", "pip", "install", "--quiet",
                 "--disable-pip-version-check", "-r", str(REQUIREMENTS)],
                check=True)
        return
    python = VENV_DIR / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV_DIR)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet",
         "--disable-pip-version-check", "-r", str(REQUIREMENTS)],
        check=True)
    os.execv(str(python), [str(python), str(Path(__file__).resolve()), *sys.argv[1:]])


# --------------------------------------------------------------------------
# deterministic inputs
# --------------------------------------------------------------------------

def det_bytes(label: str, n: int) -> bytes:
    """n fixed pseudo-random bytes named by label (SHAKE-256)."""
    return hashlib.shake_256(("miva-rs test vectors/" + label).encode("utf-8")).digest(n)


def det_hex(label: str, n_chars: int) -> str:
    return det_bytes(label, (n_chars + 1) // 2).hex()[:n_chars]


def signing_key(label: str, n_bytes: int, unpadded: bool) -> str:
    key = base64.b64encode(det_bytes("signing-key/" + label, n_bytes)).decode("ascii")
    return key.rstrip("=") if unpadded else key


def dumps_compact(obj, ascii_only=False) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=ascii_only)


# Request bodies: the exact text that is signed (as UTF-8).
WIRE_FACTS_BODY = (
    '{"Store_Code": "STORE", "Sort": "", "Offset": 0, "Count": 1, "Filter": [], '
    '"Function": "ProductList_Load_Query", "Miva_Request_Timestamp": 1700000000}'
)
assert len(WIRE_FACTS_BODY.encode("utf-8")) == 150

_UNICODE_PRODUCT = {
    "Store_Code": "STORE",
    "Function": "Product_Insert",
    "Product_Code": "cafe-001",
    "Product_Name": "Café con leche — ñandú",
    "Product_Description": "日本語の説明 / 中文描述 / 한국어 설명",
    "CustomField_Values:customfields:tagline": "Fiesta 🎉👍🏽 ¡olé!",
    "Product_Price": 4.5,
    "Miva_Request_Timestamp": 1700000100,
}


def _large_body() -> str:
    ops = []
    i = 0
    while True:
        ops.append({
            "Product_Code": f"bulk-{i:04d}",
            "Product_Name": f"Producto número {i} — ñ",
            "Product_Price": round(1 + i * 0.25, 2),
            "Product_Weight": i % 7,
            "Product_Active": i % 2 == 0,
        })
        body = dumps_compact({
            "Store_Code": "STORE",
            "Miva_Request_Timestamp": 1700000200,
            "Operations": [{"Function": "Product_Insert", "Iterations": ops}],
        })
        if len(body.encode("utf-8")) >= 10 * 1024:
            return body
        i += 1


BODIES: dict[str, str] = {
    "wire-facts-150": WIRE_FACTS_BODY,
    "empty-object": "{}",
    "empty": "",
    "compact-order-list": dumps_compact({
        "Store_Code": "STORE",
        "Function": "OrderList_Load_Query",
        "Count": 25,
        "Offset": 0,
        "Sort": "-id",
        "Filter": [
            {"name": "search", "value": [
                {"field": "status", "operator": "IN", "value": "100,200,300"}]},
            {"name": "ondemandcolumns", "value": ["ship_data", "payment_data"]},
        ],
        "Miva_Request_Timestamp": 1700000123,
    }),
    "unicode-raw": dumps_compact(_UNICODE_PRODUCT),
    "unicode-escaped": dumps_compact(_UNICODE_PRODUCT, ascii_only=True),
    "pretty-newlines": json.dumps({
        "Store_Code": "STORE",
        "Function": "Customer_Insert",
        "Customer_Login": "maria.nuñez",
        "Customer_PasswordEmail": "maría@example.com",
        "Customer_BillFirstName": "María",
        "Customer_BillLastName": "Núñez",
        "Miva_Request_Timestamp": 1700000300,
    }, indent=2, ensure_ascii=False),
    "crlf-newlines": json.dumps({
        "Store_Code": "STORE",
        "Function": "Category_Insert",
        "Category_Code": "ropa",
        "Category_Name": "Ropa y calzado",
        "Miva_Request_Timestamp": 1700000301,
    }, indent=4, ensure_ascii=False).replace("\n", "\r\n"),
    # Hand-written JSON text with escapes kept as escapes (backslash sequences
    # are part of the signed bytes).
    "escapes": (
        '{"Function":"Product_Update","Store_Code":"STORE","Product_Code":"esc-1",'
        '"Product_Description":"<p class=\\"x\\">Line 1\\nLine 2\\tTabbed \\"quoted\\" '
        'back\\\\slash \\/ slash \\u00e9 \\u0000 \\ud83d\\ude00</p>",'
        '"Miva_Request_Timestamp":1700000456}'
    ),
    "trailing-newline": dumps_compact({
        "Store_Code": "STORE",
        "Function": "Product_Delete",
        "Product_Code": "old-1",
        "Miva_Request_Timestamp": 1700000457,
    }) + "\n",
    "multicall": dumps_compact({
        "Store_Code": "STORE",
        "Miva_Request_Timestamp": 1700000500,
        "Operations": [
            {"Function": "ProductList_Load_Query", "Count": 1},
            {"Function": "Product_Update", "Product_Price": 9.99,
             "Iterations": [{"Product_Code": "a"}, {"Product_Code": "b"}]},
        ],
    }),
    "module": dumps_compact({
        "Store_Code": "STORE",
        "Function": "Module",
        "Module_Code": "customfields",
        "Module_Function": "CustomField_Values_Load",
        "Miva_Request_Timestamp": 1700000600,
    }),
    "cjk": dumps_compact({
        "Store_Code": "商店",
        "Function": "Customer_Update",
        "Customer_Login": "用户",
        "Customer_BillCompany": "东京商事株式会社",
        "Customer_BillAddress1": "서울특별시 중구",
        "Miva_Request_Timestamp": 1700000700,
    }, ascii_only=False),
    # "Cafe" + U+0301 (decomposed é) next to precomposed é, and a non-BMP
    # character: signers must not normalize.
    "nfd-and-astral": dumps_compact({
        "Store_Code": "STORE",
        "Function": "Product_Update",
        "Product_Code": "nfd",
        "Product_Name": "Cafe\u0301 / Caf\u00e9 / \U0001D11E clef",
        "Miva_Request_Timestamp": 1700000800,
    }),
    "whitespace": ('  { "Function" : "StoreList_Load_Query" ,\t'
                   '"Miva_Request_Timestamp" : 1700000999 }  '),
    "large": _large_body(),
}

WIRE_TOKEN = "0f90f77b58ca98836eba3d50f526f523"
WIRE_SIGNING_KEY = "NglO1/NYZeYmnID0DrMIjuXqdD3nxBpNLp0FJlfjQbQ"


# --------------------------------------------------------------------------
# RSA test keys (generated once, then reused)
# --------------------------------------------------------------------------

# file, bits, passphrase, how it is made (the kind recorded in keys/README.md),
# and the key file it re-encrypts (None: a new key). A re-encrypted copy holds
# the same RSA key as its source, so it signs identically.
KEYS = [
    ("rsa2048-pkcs1.pem", 2048, None, "pkcs1-openssl", None),
    ("rsa3072-pkcs1-ssh-keygen.pem", 3072, None, "pkcs1-ssh-keygen", None),
    ("rsa3072-pkcs8.pem", 3072, None, "pkcs8", None),
    ("rsa4096-pkcs8.pem", 4096, None, "pkcs8", None),
    ("rsa2048-pkcs8-aes256cbc.pem", 2048, "correct horse battery staple", "pkcs8-aes256cbc", None),
    ("rsa3072-pkcs8-scrypt.pem", 3072, "contraseña scrypt ñ", "pkcs8-scrypt", None),
    ("rsa2048-openssh.key", 2048, None, "openssh", None),
    ("rsa4096-openssh-encrypted.key", 4096, "pass phrase", "openssh", None),
    # Encrypted formats added later (appended, so the keys above are untouched).
    # OpenSSL's legacy PEM encryption (Proc-Type: 4,ENCRYPTED / DEK-Info):
    ("rsa2048-pkcs1-aes128cbc-ssh-keygen.pem", 2048, "some passphrase",
     "pkcs1-ssh-keygen-encrypted", None),
    ("rsa3072-pkcs1-des3.pem", 3072, "clé DES-EDE3 ü", "pkcs1-openssl-des3",
     "rsa3072-pkcs8.pem"),
    ("rsa2048-pkcs1-aes256cbc.pem", 2048, "legacy aes-256 pem", "pkcs1-openssl-aes256",
     "rsa2048-pkcs1.pem"),
    # PBES2 PKCS#8 with PBKDF2-HMAC-SHA1 and DES-EDE3-CBC:
    ("rsa2048-pkcs8-des3-sha1.pem", 2048, "des3 sha1 pkcs8", "pkcs8-des3-sha1", None),
    # pycryptodome (the pinned version, see requirements.txt): its default
    # PKCS#8 protection, its PKCS#1 legacy encryption (DES-EDE3-CBC), and the
    # PKCS#8 protection pycryptodome 3.x used by default. pycryptodome encodes
    # a str passphrase as Latin-1, so these passphrases are ASCII.
    ("rsa3072-pkcs8-pycryptodome.pem", 3072, "pycryptodome default",
     "pycryptodome-pkcs8", None),
    ("rsa3072-pkcs1-pycryptodome-des3.pem", 3072, "pycryptodome pkcs1",
     "pycryptodome-pkcs1", "rsa3072-pkcs8-pycryptodome.pem"),
    ("rsa2048-pkcs8-pycryptodome3-des3-sha1.pem", 2048, "pycryptodome 3.x default",
     "pycryptodome3-pkcs8", "rsa2048-pkcs8-des3-sha1.pem"),
]
KEY_COMMENT = "FAKE TEST KEY - miva-rs test vectors"


def run(argv, *, input_bytes=None, env_extra=None, cwd=None) -> bytes:
    env = dict(os.environ)
    if env_extra:
        env.update(env_extra)
    proc = subprocess.run(argv, input=input_bytes, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env, cwd=cwd)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv!r} failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout


def generate_key(path: Path, bits: int, passphrase: str | None, kind: str,
                 source: dict | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / path.name
        pw_env = {"VEC_PASS": passphrase or "",
                  "SRC_PASS": (source or {}).get("passphrase") or ""}
        if kind == "pkcs1-openssl":
            run(["openssl", "genrsa", "-traditional", "-out", str(out), str(bits)])
        elif kind == "pkcs1-ssh-keygen":
            run(["ssh-keygen", "-q", "-t", "rsa", "-b", str(bits), "-m", "PEM",
                 "-N", "", "-C", KEY_COMMENT, "-f", str(out)])
        elif kind == "pkcs1-ssh-keygen-encrypted":
            # The command Miva's documentation gives (with a passphrase):
            # OpenSSH writes OpenSSL's legacy PEM encryption, AES-128-CBC.
            run(["ssh-keygen", "-q", "-t", "rsa", "-b", str(bits), "-m", "PEM",
                 "-N", passphrase, "-C", KEY_COMMENT, "-f", str(out)])
        elif kind == "pkcs8":
            run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                 f"rsa_keygen_bits:{bits}", "-out", str(out)])
        elif kind in ("pkcs8-aes256cbc", "pkcs8-scrypt", "pkcs8-des3-sha1"):
            plain = Path(tmp) / "plain.pem"
            run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                 f"rsa_keygen_bits:{bits}", "-out", str(plain)])
            enc = {"pkcs8-aes256cbc": ["-v2", "aes-256-cbc"],
                   "pkcs8-scrypt": ["-scrypt"],
                   "pkcs8-des3-sha1": ["-v2", "des3", "-v2prf", "hmacWithSHA1"]}[kind]
            run(["openssl", "pkcs8", "-topk8", *enc, "-in", str(plain),
                 "-out", str(out), "-passout", "env:VEC_PASS"], env_extra=pw_env)
        elif kind in ("pkcs1-openssl-des3", "pkcs1-openssl-aes256"):
            cipher = {"pkcs1-openssl-des3": "-des3", "pkcs1-openssl-aes256": "-aes256"}[kind]
            run(["openssl", "rsa", "-in", str(source["path"]), "-passin", "env:SRC_PASS",
                 "-traditional", cipher, "-out", str(out), "-passout", "env:VEC_PASS"],
                env_extra=pw_env)
        elif kind in ("pycryptodome-pkcs8", "pycryptodome-pkcs1", "pycryptodome3-pkcs8"):
            from Crypto.PublicKey import RSA

            if source is None:
                key = RSA.generate(bits)
            else:
                src_pass = source["passphrase"]
                key = RSA.import_key(source["text"], passphrase=None if src_pass is None
                                     else src_pass.encode("utf-8"))
            assert key.size_in_bits() == bits
            pw = passphrase.encode("ascii")
            if kind == "pycryptodome-pkcs8":
                # key.export_key(passphrase=..., pkcs=8) with the default protection
                text = key.export_key(passphrase=pw, pkcs=8)
            elif kind == "pycryptodome-pkcs1":
                text = key.export_key(passphrase=pw, pkcs=1)
            else:
                # pycryptodome 3.x's default for pkcs=8 (protection and count)
                text = key.export_key(passphrase=pw, pkcs=8,
                                      protection="PBKDF2WithHMAC-SHA1AndDES-EDE3-CBC",
                                      prot_params={"iteration_count": 1000})
            # Written exactly as returned (pycryptodome adds no final newline).
            out.write_bytes(text)
        elif kind == "openssh":
            run(["ssh-keygen", "-q", "-t", "rsa", "-b", str(bits),
                 "-N", passphrase or "", "-C", KEY_COMMENT, "-f", str(out)])
        else:
            raise ValueError(kind)
        KEYS_DIR.mkdir(parents=True, exist_ok=True)
        pub = out.with_name(out.name + ".pub")
        if pub.exists():
            shutil.copyfile(pub, path.with_name(path.name + ".pub"))
        shutil.copyfile(out, path)
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)


def ensure_keys() -> dict[str, dict]:
    keys = {}
    for name, bits, passphrase, kind, source in KEYS:
        path = KEYS_DIR / name
        if not path.exists():
            how = kind if source is None else f"{kind}, re-encrypting {source}"
            print(f"generating {path.relative_to(REPO)} (RSA {bits}, {how})")
            generate_key(path, bits, passphrase, kind,
                         None if source is None else keys[source])
        keys[name] = {"path": path, "bits": bits, "passphrase": passphrase,
                      "kind": kind, "text": path.read_text(encoding="utf-8")}
    return keys


def openssl_sign(key: dict, digest: str, data: bytes) -> bytes:
    """RSASSA-PKCS1-v1_5 via `openssl dgst -<digest> -sign`."""
    with tempfile.TemporaryDirectory() as tmp:
        key_path = key["path"]
        env = {"VEC_PASS": key["passphrase"] or ""}
        if "OPENSSH PRIVATE KEY" in key["text"]:
            # OpenSSL cannot read the OpenSSH format: sign with a PEM copy.
            copy = Path(tmp) / "copy.key"
            shutil.copyfile(key_path, copy)
            os.chmod(copy, stat.S_IRUSR | stat.S_IWUSR)
            run(["ssh-keygen", "-q", "-p", "-m", "PEM", "-f", str(copy),
                 "-P", key["passphrase"] or "", "-N", ""])
            key_path, env = copy, {"VEC_PASS": ""}
        data_path = Path(tmp) / "body"
        data_path.write_bytes(data)
        argv = ["openssl", "dgst", f"-{digest}", "-sign", str(key_path)]
        if key["passphrase"] and key_path == key["path"]:
            argv += ["-passin", "env:VEC_PASS"]
        return run(argv + [str(data_path)], env_extra=env)


def ssh_header_value(digest: str, username: str, signature_b64: str) -> str:
    scheme = {"sha256": "SSH-RSA-SHA2-256", "sha512": "SSH-RSA-SHA2-512"}[digest]
    user_b64 = base64.b64encode(username.encode("utf-8")).decode("ascii")
    return f"{scheme} {user_b64}:{signature_b64}"


# --------------------------------------------------------------------------
# vector files
# --------------------------------------------------------------------------

def write_json(name: str, doc: dict) -> None:
    VECTORS_DIR.mkdir(parents=True, exist_ok=True)
    path = VECTORS_DIR / name
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if path.exists() and path.read_text(encoding="utf-8") == text:
        print(f"unchanged {path.relative_to(REPO)}")
        return
    path.write_text(text, encoding="utf-8")
    print(f"wrote     {path.relative_to(REPO)}")


def ssh_entry(name, username, key, digest, body, header_value) -> dict:
    entry = {"name": name, "username": username, "private_key": key["text"]}
    if key["passphrase"] is not None:
        entry["passphrase"] = key["passphrase"]
    entry.update({"digest": digest, "body": body, "header_name": HEADER_NAME,
                  "header_value": header_value})
    return entry


# ---- 1. wire-facts.json and miravia-document.json: transcribed by hand ----

MIRAVIA_DOC_SYS = {"access_token": "test", "app_key": "123456",
                   "sign_method": "sha256", "timestamp": "1517820392000"}
MIRAVIA_P = ('{"Request":{"Product":{"PrimaryCategory":"10002019","Attributes":'
             '{"name":"Camiseta algodón ñ","description":"100% algodón & <b>suave</b>"},'
             '"Skus":{"Sku":[{"SellerSku":"CAM-01","quantity":"3","price":"9.99"}]}}}}')

MIRAVIA_DOCUMENT_ORDER_GET = {
    "name": "document-order-get",
    "secret": "helloworld",
    "api_path": "/order/get",
    "params": {**MIRAVIA_DOC_SYS, "order_id": "1234"},
    "body": None,
    "sign": "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A",
}


def wire_facts_doc() -> dict:
    sys_ = MIRAVIA_DOC_SYS
    miravia = [
        {**MIRAVIA_DOCUMENT_ORDER_GET,
         "name": "document-order-get (Miravia document section 1.1 example)"},
        {"name": "products-get-unicode-search", "secret": "helloworld",
         "api_path": "/products/get",
         "params": {**sys_, "filter": "live", "search": "Camiseta algodón ñ"},
         "body": None,
         "sign": "23A15CCD6AF746D7D6700F1477B73A11BF80B3BC9804E71DC85D7C517337D435"},
        {"name": "products-get-reserved-characters-unencoded", "secret": "helloworld",
         "api_path": "/products/get",
         "params": {**sys_, "filter": "live", "search": "a b&c=d+e%20f"},
         "body": None,
         "sign": "0676DFE601A0A5AC586F1002CE05DF07A212B29776E192149E0F295DB4B5C41E"},
        {"name": "orders-get-empty-status-skipped", "secret": "helloworld",
         "api_path": "/orders/get",
         "params": {**sys_, "created_after": "2018-02-10T16:00:00+08:00", "status": ""},
         "body": None,
         "sign": "DE78FA27BBC7B13CE27C1FD16F01773019EE32F801621ED1D6D2574E8AE9B331"},
        {"name": "test-api-byte-order-sort-no-system-params", "secret": "helloworld",
         "api_path": "/test/api",
         "params": {"B": "2", "a": "1", "A": "0", "_x": "3", "b": "4",
                    "item_id": "5", "item_ids": "6", "Z9": "7"},
         "body": None,
         "sign": "08FCAF7A81B3BA18340EE49B952EEAECFCC65B62E99D47645EE28CE2D0AC8DA2"},
        {"name": "auth-token-create", "secret": "helloworld",
         "api_path": "/auth/token/create",
         "params": {"app_key": "12345678", "code": "3_500102_JxZ05Ux3cnnSSUm6dCxYg6Q26",
                    "sign_method": "sha256", "timestamp": "1517820392000"},
         "body": None,
         "sign": "35607762342831B6A417A0DED84B79C05FEFBF116969C48AD6DC00279A9F4D81"},
        {"name": "product-create-payload-param", "secret": "helloworld",
         "api_path": "/product/create",
         "params": {**sys_, "payload": MIRAVIA_P},
         "body": None,
         "sign": "B40614A191B311E1945C6790F8C3FCC349AD61600DD4EDC5FB631C6BAE6D3864"},
        {"name": "product-create-payload-as-body", "secret": "helloworld",
         "api_path": "/product/create",
         "params": dict(sys_),
         "body": MIRAVIA_P,
         "sign": "0D3AA86F0F2EB9EB04B73D0499054D4B6ADAB717F8E165007A5874C044BA4459"},
    ]
    return {
        "source": "shared/notes/wire-facts.md cross-checked vectors",
        "miva_token": [
            {"name": "vendor-doc-token-only (Miva JSON API getting-started page)",
             "token": WIRE_TOKEN, "header_name": HEADER_NAME,
             "header_value": f"MIVA {WIRE_TOKEN}"},
        ],
        "miva_hmac": [
            {"name": "wire-facts-hmac-sha256-unpadded-key-150-byte-body",
             "token": WIRE_TOKEN, "signing_key": WIRE_SIGNING_KEY, "digest": "sha256",
             "body": WIRE_FACTS_BODY, "header_name": HEADER_NAME,
             "header_value": "MIVA-HMAC-SHA256 0f90f77b58ca98836eba3d50f526f523:"
                             "T7hwEUfGBqcRGS9SCHYlMXjgZwiNrzPNX88imOkxlV4="},
            {"name": "wire-facts-hmac-sha1-unpadded-key-150-byte-body",
             "token": WIRE_TOKEN, "signing_key": WIRE_SIGNING_KEY, "digest": "sha1",
             "body": WIRE_FACTS_BODY, "header_name": HEADER_NAME,
             "header_value": "MIVA-HMAC-SHA1 0f90f77b58ca98836eba3d50f526f523:"
                             "dgXYBcEflR0jR73czk9cMtmcHTc="},
        ],
        "miravia": miravia,
    }


def miravia_document_doc() -> dict:
    return {
        "source": "Miravia document 'Call API with HTTP request' "
                  "(shared/spec/miravia-call-api-with-http.txt), section 1.1",
        "miravia": [MIRAVIA_DOCUMENT_ORDER_GET],
    }


# ---- 2. merchantapi-2.7.0.json ----

def merchantapi_doc(keys: dict) -> dict:
    from importlib import metadata

    from merchantapi.authenticator import SSHPrivateKeyAuthenticator, TokenAuthenticator

    assert metadata.version("merchantapi") == "2.7.0"

    tokens = []
    for name, token in [
        ("wire-facts-token", WIRE_TOKEN),
        ("hex32-token-a", det_hex("token/a", 32)),
        ("hex32-token-b", det_hex("token/b", 32)),
        ("hex64-token", det_hex("token/c", 64)),
    ]:
        auth = TokenAuthenticator(token, "", TokenAuthenticator.DIGEST_NONE)
        header = auth.generate_authentication_header(b"")
        tokens.append({"name": f"token-only-{name}", "token": token,
                       "header_name": HEADER_NAME, "header_value": header})

    # name, key bytes (None = the wire-facts key), unpadded?, digest, body id
    hmac_cases = [
        ("wire-key-sha256-empty-object", None, True, "sha256", "empty-object"),
        ("wire-key-sha1-compact", None, True, "sha1", "compact-order-list"),
        ("key16-padded-sha256-wire-body", 16, False, "sha256", "wire-facts-150"),
        ("key16-unpadded-sha256-unicode-raw", 16, True, "sha256", "unicode-raw"),
        ("key16-unpadded-sha1-unicode-escaped", 16, True, "sha1", "unicode-escaped"),
        ("key16-padded-sha1-cjk", 16, False, "sha1", "cjk"),
        ("key16-unpadded-sha256-module", 16, True, "sha256", "module"),
        ("key16-padded-sha1-empty-object", 16, False, "sha1", "empty-object"),
        ("key16-unpadded-sha256-escapes", 16, True, "sha256", "escapes"),
        ("key32-padded-sha256-pretty-newlines", 32, False, "sha256", "pretty-newlines"),
        ("key32-unpadded-sha256-crlf-newlines", 32, True, "sha256", "crlf-newlines"),
        ("key32-unpadded-sha1-escapes", 32, True, "sha1", "escapes"),
        ("key32-padded-sha256-nfd-and-astral", 32, False, "sha256", "nfd-and-astral"),
        ("key32-unpadded-sha256-trailing-newline", 32, True, "sha256", "trailing-newline"),
        ("key32-unpadded-sha256-empty-body", 32, True, "sha256", "empty"),
        ("key32-unpadded-sha256-unicode-escaped", 32, True, "sha256", "unicode-escaped"),
        ("key32-unpadded-sha1-pretty-newlines", 32, True, "sha1", "pretty-newlines"),
        ("key32-padded-sha1-wire-body", 32, False, "sha1", "wire-facts-150"),
        ("key48-sha256-large-body", 48, False, "sha256", "large"),
        ("key48-sha1-large-body", 48, False, "sha1", "large"),
        ("key48-sha256-multicall", 48, False, "sha256", "multicall"),
        ("key48-sha256-whitespace", 48, False, "sha256", "whitespace"),
        ("key96-longer-than-block-sha256-unicode-raw", 96, False, "sha256", "unicode-raw"),
        ("key96-longer-than-block-sha1-cjk", 96, False, "sha1", "cjk"),
    ]
    hmacs = []
    for name, n_bytes, unpadded, digest, body_id in hmac_cases:
        key = WIRE_SIGNING_KEY if n_bytes is None else signing_key(name, n_bytes, unpadded)
        body = BODIES[body_id]
        # The key is passed as recorded (possibly unpadded): TokenAuthenticator
        # pads it with '=' itself. The body goes in as its exact UTF-8 bytes,
        # as merchantapi's client does after json.dumps(...).encode('utf-8').
        token = det_hex("hmac-token/" + name, 32)
        auth = TokenAuthenticator(token, key, digest)
        header = auth.generate_authentication_header(body.encode("utf-8"))
        hmacs.append({"name": f"hmac-{name}", "token": token, "signing_key": key,
                      "digest": digest, "body": body, "header_name": HEADER_NAME,
                      "header_value": header})

    # key file, digest, username, body id
    ssh_cases = [
        ("rsa2048-pkcs1.pem", "sha256", "apiuser", "wire-facts-150"),
        ("rsa2048-pkcs1.pem", "sha512", "José", "empty"),
        ("rsa3072-pkcs1-ssh-keygen.pem", "sha512", "José", "unicode-raw"),
        ("rsa3072-pkcs1-ssh-keygen.pem", "sha256", "用户", "large"),
        ("rsa3072-pkcs8.pem", "sha256", "用户", "cjk"),
        ("rsa4096-pkcs8.pem", "sha512", "admin@example.com", "multicall"),
        ("rsa2048-pkcs8-aes256cbc.pem", "sha256", "Zoë Ångström", "pretty-newlines"),
        ("rsa3072-pkcs8-scrypt.pem", "sha512", "dev🚀", "escapes"),
        ("rsa2048-openssh.key", "sha256", "José", "nfd-and-astral"),
        ("rsa2048-openssh.key", "sha512", "apiuser", "crlf-newlines"),
        ("rsa4096-openssh-encrypted.key", "sha512", "用户", "unicode-escaped"),
        ("rsa4096-openssh-encrypted.key", "sha256", "José", "empty-object"),
        # legacy-encrypted PEM and the PBKDF2-SHA1/3DES and pycryptodome PKCS#8
        ("rsa2048-pkcs1-aes128cbc-ssh-keygen.pem", "sha256", "apiuser", "wire-facts-150"),
        ("rsa2048-pkcs1-aes128cbc-ssh-keygen.pem", "sha512", "José", "unicode-raw"),
        ("rsa3072-pkcs1-des3.pem", "sha256", "用户", "compact-order-list"),
        ("rsa3072-pkcs1-des3.pem", "sha512", "admin@example.com", "crlf-newlines"),
        ("rsa2048-pkcs1-aes256cbc.pem", "sha256", "Zoë Ångström", "escapes"),
        ("rsa2048-pkcs1-aes256cbc.pem", "sha512", "apiuser", "empty"),
        ("rsa2048-pkcs8-des3-sha1.pem", "sha256", "dev🚀", "multicall"),
        ("rsa2048-pkcs8-des3-sha1.pem", "sha512", "José", "trailing-newline"),
        ("rsa3072-pkcs8-pycryptodome.pem", "sha256", "apiuser", "module"),
        ("rsa3072-pkcs8-pycryptodome.pem", "sha512", "用户", "nfd-and-astral"),
        ("rsa3072-pkcs1-pycryptodome-des3.pem", "sha256", "José", "large"),
        ("rsa3072-pkcs1-pycryptodome-des3.pem", "sha512", "apiuser", "empty-object"),
        ("rsa2048-pkcs8-pycryptodome3-des3-sha1.pem", "sha256", "Zoë Ångström", "whitespace"),
        ("rsa2048-pkcs8-pycryptodome3-des3-sha1.pem", "sha512", "dev🚀", "cjk"),
    ]
    sshs = []
    for key_name, digest, username, body_id in ssh_cases:
        key = keys[key_name]
        body = BODIES[body_id]
        digest_type = {"sha256": SSHPrivateKeyAuthenticator.DIGEST_SSH_RSA_SHA256,
                       "sha512": SSHPrivateKeyAuthenticator.DIGEST_SSH_RSA_SHA512}[digest]
        auth = SSHPrivateKeyAuthenticator(username, "", None, digest_type)
        auth.set_private_key_string(key["text"], key["passphrase"])
        # sign_data hashes its argument as given: it must be bytes.
        header = auth.generate_authentication_header(body.encode("utf-8"))
        stem = key_name.rsplit(".", 1)[0]
        sshs.append(ssh_entry(f"ssh-{stem}-{digest}-{body_id}", username, key,
                              digest, body, header))

    return {
        "source": "merchantapi 2.7.0 from PyPI (Miva's official Python SDK): "
                  "merchantapi.authenticator.TokenAuthenticator and "
                  "SSHPrivateKeyAuthenticator .generate_authentication_header(body bytes), "
                  "run by tests/gen/generate.py",
        "miva_token": tokens,
        "miva_hmac": hmacs,
        "miva_ssh": sshs,
    }


# ---- 3. openssl-rsa.json ----

def openssl_doc(keys: dict) -> dict:
    version = run(["openssl", "version"]).decode().strip()
    # key file, digest, username, body id
    cases = [
        ("rsa2048-pkcs1.pem", "sha256", "apiuser", "wire-facts-150"),
        ("rsa2048-pkcs1.pem", "sha512", "José", "unicode-raw"),
        ("rsa3072-pkcs1-ssh-keygen.pem", "sha256", "用户", "cjk"),
        ("rsa3072-pkcs1-ssh-keygen.pem", "sha512", "apiuser", "large"),
        ("rsa3072-pkcs8.pem", "sha256", "admin@example.com", "compact-order-list"),
        ("rsa3072-pkcs8.pem", "sha512", "Zoë Ångström", "pretty-newlines"),
        ("rsa4096-pkcs8.pem", "sha256", "José", "nfd-and-astral"),
        ("rsa4096-pkcs8.pem", "sha512", "用户", "unicode-escaped"),
        ("rsa2048-pkcs8-aes256cbc.pem", "sha256", "apiuser", "multicall"),
        ("rsa2048-pkcs8-aes256cbc.pem", "sha512", "dev🚀", "escapes"),
        ("rsa3072-pkcs8-scrypt.pem", "sha256", "José", "crlf-newlines"),
        ("rsa3072-pkcs8-scrypt.pem", "sha512", "apiuser", "module"),
        ("rsa2048-openssh.key", "sha256", "用户", "unicode-raw"),
        ("rsa2048-openssh.key", "sha512", "José", "trailing-newline"),
        ("rsa4096-openssh-encrypted.key", "sha256", "apiuser", "wire-facts-150"),
        ("rsa4096-openssh-encrypted.key", "sha512", "用户", "cjk"),
        ("rsa2048-pkcs1.pem", "sha256", "José", "empty-object"),
        ("rsa2048-openssh.key", "sha256", "apiuser", "empty"),
        ("rsa3072-pkcs8.pem", "sha256", "dev🚀", "whitespace"),
        ("rsa4096-openssh-encrypted.key", "sha512", "Zoë Ångström", "large"),
        # legacy-encrypted PEM and the PBKDF2-SHA1/3DES and pycryptodome PKCS#8.
        # Three repeat an input above with a re-encrypted copy of the same key
        # (same header_value): rsa3072-pkcs1-des3 / rsa3072-pkcs8,
        # rsa2048-pkcs1-aes256cbc / rsa2048-pkcs1, and the two pycryptodome 3072
        # and the two DES-EDE3 PKCS#8 2048 files with each other.
        ("rsa2048-pkcs1-aes128cbc-ssh-keygen.pem", "sha256", "José", "cjk"),
        ("rsa2048-pkcs1-aes128cbc-ssh-keygen.pem", "sha512", "apiuser", "wire-facts-150"),
        ("rsa3072-pkcs1-des3.pem", "sha256", "admin@example.com", "compact-order-list"),
        ("rsa3072-pkcs1-des3.pem", "sha512", "用户", "unicode-escaped"),
        ("rsa2048-pkcs1-aes256cbc.pem", "sha256", "apiuser", "wire-facts-150"),
        ("rsa2048-pkcs1-aes256cbc.pem", "sha512", "Zoë Ångström", "pretty-newlines"),
        ("rsa2048-pkcs8-des3-sha1.pem", "sha256", "用户", "unicode-raw"),
        ("rsa2048-pkcs8-des3-sha1.pem", "sha512", "apiuser", "empty"),
        ("rsa3072-pkcs8-pycryptodome.pem", "sha256", "dev🚀", "escapes"),
        ("rsa3072-pkcs8-pycryptodome.pem", "sha512", "José", "large"),
        ("rsa3072-pkcs1-pycryptodome-des3.pem", "sha256", "apiuser", "crlf-newlines"),
        ("rsa3072-pkcs1-pycryptodome-des3.pem", "sha512", "José", "large"),
        ("rsa2048-pkcs8-pycryptodome3-des3-sha1.pem", "sha256", "Zoë Ångström", "whitespace"),
        ("rsa2048-pkcs8-pycryptodome3-des3-sha1.pem", "sha512", "apiuser", "empty"),
    ]
    entries = []
    for key_name, digest, username, body_id in cases:
        key = keys[key_name]
        body = BODIES[body_id]
        sig = openssl_sign(key, digest, body.encode("utf-8"))
        header = ssh_header_value(digest, username, base64.b64encode(sig).decode("ascii"))
        stem = key_name.rsplit(".", 1)[0]
        entries.append(ssh_entry(f"ssh-{stem}-{digest}-{body_id}", username, key,
                                 digest, body, header))
    return {
        "source": f"{version} command line: header_value = 'SSH-RSA-SHA2-256 ' or "
                  "'SSH-RSA-SHA2-512 ' + base64(utf8 username) + ':' + "
                  "base64(openssl dgst -sha256|-sha512 -sign <key> <body bytes>); "
                  "keys made by openssl genrsa/genpkey/pkcs8/rsa, ssh-keygen and "
                  "pycryptodome (OpenSSH keys signed through a `ssh-keygen -p -m PEM` "
                  "copy, encrypted PEM keys with -passin), "
                  "run by tests/gen/generate.py",
        "miva_ssh": entries,
    }


# ---- 4. lazop-sdk-1.0.3.json ----

def lazop_doc() -> dict:
    from importlib import metadata

    assert metadata.version("lazop-sdk") == "1.0.3"
    home = tempfile.mkdtemp(prefix="lazop-home-")
    old_home = os.environ.get("HOME")
    os.environ["HOME"] = home  # lazop_sdk creates ~/logs on import
    try:
        import lazop_sdk

        partner = lazop_sdk.P_SDK_VERSION  # "lazop-sdk-python-20181207"
        secret = det_hex("lazop/secret", 32)
        access_token = "50000" + det_hex("lazop/access-token", 55)

        def sys_params(ts="1700000000000", token=True, app_key="500123"):
            p = {"app_key": app_key, "sign_method": "sha256", "timestamp": ts,
                 "partner_id": partner}
            if token:
                p["access_token"] = access_token
            return p

        xml_payload = (
            '<?xml version="1.0" encoding="UTF-8" ?>\n<Request>\n  <Product>\n'
            '    <PrimaryCategory>10002019</PrimaryCategory>\n'
            '    <Attributes><name>Áo thun nữ &amp; nam</name></Attributes>\n'
            '    <Skus><Sku><SellerSku>AO-01</SellerSku><quantity>5</quantity>'
            '<price>199000</price></Sku></Skus>\n  </Product>\n</Request>'
        )
        json_payload = json.dumps({"Request": {"Product": {
            "PrimaryCategory": "10002019",
            "Attributes": {"name": "Zapatillas niño 👟", "brand": "Sin marca",
                           "description": "<p>100% algodón & \"suave\"</p>"},
            "Skus": {"Sku": [{"SellerSku": "ZAP-01", "quantity": "2", "price": "29.90"}]},
        }}}, ensure_ascii=False, separators=(",", ":"))
        twelve = {f"{n}": v for n, v in [
            ("offset", "0"), ("limit", "100"), ("sort_by", "updated_at"),
            ("sort_direction", "DESC"), ("status", "pending"),
            ("created_after", "2024-01-01T00:00:00+01:00"),
            ("created_before", "2024-01-31T23:59:59+01:00"),
            ("update_after", "2024-01-02T00:00:00+01:00"),
            ("update_before", "2024-01-30T00:00:00+01:00"),
            ("country", "ES"), ("buyer_email", "cliente+test@example.es"),
            ("order_number", "987654321"),
        ]}
        assert len(twelve) == 12

        # name, secret, api path, params (all values strings, none empty)
        cases = [
            ("order-get", secret, "/order/get", {**sys_params(), "order_id": "16090"}),
            ("orders-get-iso-created-after", secret, "/orders/get",
             {**sys_params(), "created_after": "2018-02-10T16:00:00+08:00",
              "status": "shipped", "limit": "50"}),
            ("order-items-get", secret, "/order/items/get",
             {**sys_params(), "order_id": "260123456789012"}),
            ("orders-items-get-json-array-value", secret, "/orders/items/get",
             {**sys_params(), "order_ids": "[260123456789012,260123456789013]"}),
            ("products-get-spanish", secret, "/products/get",
             {**sys_params(), "filter": "live", "search": "Camiseta algodón ñ"}),
            ("products-get-cjk", secret, "/products/get",
             {**sys_params(), "filter": "all", "search": "连衣裙 夏季 新款"}),
            ("products-get-emoji", secret, "/products/get",
             {**sys_params(), "search": "regalo 🎁 niños 👧🏻"}),
            ("products-get-vietnamese-thai", secret, "/products/get",
             {**sys_params(), "search": "Áo thun nữ", "sku_seller_list": "เสื้อยืด"}),
            ("reserved-characters-unencoded", secret, "/products/get",
             {**sys_params(), "search": "a b&c=d+e%20f", "sku": "x=1&y=2",
              "note": "100% + tax ?#/"}),
            ("leading-trailing-spaces", secret, "/products/get",
             {**sys_params(), "search": "  padded value  "}),
            ("twelve-business-params", secret, "/orders/get", {**sys_params(), **twelve}),
            ("names-differing-in-case-and-underscore", secret, "/test/names",
             {**sys_params(), "Sku": "1", "sku": "2", "SKU": "3", "_sku": "4",
              "sku_": "5", "sku_id": "6", "skuId": "7", "SkuId": "8", "sku_ids": "9"}),
            ("names-prefixes-digits-underscores-no-system-params", "helloworld", "/test/api",
             {"a": "1", "ab": "2", "a_b": "3", "a0": "4", "aB": "5", "A": "6",
              "_": "7", "__": "8", "Z": "9", "z": "10", "0": "11", "a_": "12"}),
            ("product-create-json-payload", secret, "/product/create",
             {**sys_params(), "payload": json_payload}),
            ("product-create-xml-payload-newlines", secret, "/product/create",
             {**sys_params(), "payload": xml_payload}),
            ("price-quantity-update", secret, "/product/price_quantity/update",
             {**sys_params(), "payload": "<Request><Product><Skus><Sku><SellerSku>A&amp;B"
                                         "</SellerSku><Price>9.99</Price></Sku></Skus>"
                                         "</Product></Request>"}),
            ("auth-token-create", secret, "/auth/token/create",
             {**sys_params(token=False), "code": "0_123456_" + det_hex("lazop/code", 24)}),
            ("auth-token-refresh", secret, "/auth/token/refresh",
             {**sys_params(token=False),
              "refresh_token": "50001" + det_hex("lazop/refresh", 55)}),
            ("iso-utc-timestamp", secret, "/seller/get",
             sys_params(ts="2017-11-11T12:00:00Z")),
            ("long-secret-over-block-size", det_hex("lazop/long-secret", 80), "/seller/get",
             sys_params()),
            ("unicode-secret", "sécret-ü-秘密", "/order/get",
             {**sys_params(), "order_id": "1"}),
            ("path-only-no-params", secret, "/category/tree/get", {}),
            ("long-value-2k", secret, "/product/update",
             {**sys_params(), "payload": ("Descripción larga ñ " * 110).strip()}),
            ("quotes-backslashes-newlines-tabs", secret, "/product/update",
             {**sys_params(), "payload": 'He said "hi" \\n and \\ backslash\nnew line\ttab'}),
            ("numeric-and-boolean-looking-strings", secret, "/finance/transaction/details/get",
             {**sys_params(), "start_time": "2024-01-01", "end_time": "2024-01-31",
              "offset": "007", "limit": "1e3", "trans_type": "-1", "is_test": "true",
              "Is_Test": "True"}),
            ("deep-path-trailing-segment", secret, "/logistic/order/trace",
             {**sys_params(app_key="100001"), "order_id": "42", "locale": "es-ES"}),
        ]
        entries = []
        for name, sec, api, params in cases:
            assert all(isinstance(v, str) and v != "" for v in params.values()), name
            signature = lazop_sdk.sign(sec, api, dict(params))
            entries.append({"name": name, "secret": sec, "api_path": api,
                            "params": params, "body": None, "sign": signature})
    finally:
        if old_home is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = old_home
        shutil.rmtree(home, ignore_errors=True)
    return {
        "source": "lazop-sdk 1.0.3 from PyPI (Lazada/Miravia's official Python SDK): "
                  "lazop_sdk.sign(secret, api, parameters), run by tests/gen/generate.py; "
                  "no empty values (the SDK signs them as the bare name, the document "
                  "skips them), no body (the SDK's sign takes none)",
        "miravia": entries,
    }


def main() -> None:
    ensure_venv()
    keys = ensure_keys()
    write_json("wire-facts.json", wire_facts_doc())
    write_json("miravia-document.json", miravia_document_doc())
    write_json("merchantapi-2.7.0.json", merchantapi_doc(keys))
    write_json("openssl-rsa.json", openssl_doc(keys))
    write_json("lazop-sdk-1.0.3.json", lazop_doc())


if __name__ == "__main__":
    main()
