#!/usr/bin/env python3
"""Check every file in tests/vectors/ independently of the SDKs that made it.

Uses only the Python standard library (hmac, hashlib, base64) and the
openssl / ssh-keygen command line tools; imports neither merchantapi nor
lazop_sdk, and none of this workspace's Rust code.

* schema: top-level keys and the exact field set of each entry;
* miva_token: header_value == "MIVA " + token;
* miva_hmac: HMAC recomputed with the '='-padded, strictly decoded key;
* miva_ssh: the key's format is identified (PEM headers and DEK-Info,
  `openssl asn1parse` of the PBES2 parameters, the OpenSSH cipher and KDF)
  and `passphrase` must be present exactly for encrypted keys; the key is
  decrypted with `openssl pkey -passin` (PEM: PKCS#1, legacy
  Proc-Type/DEK-Info encryption, PKCS#8, encrypted PKCS#8) or `ssh-keygen -p`
  (OpenSSH); the scheme matches the digest, the username part is
  base64(utf8 username), the signature verifies with `openssl dgst -verify`
  against the public key, and re-signing with `openssl dgst -sign` gives the
  same bytes (PKCS#1 v1.5 is deterministic);
* miravia: the document's rule (skip empty values, sort names by bytes, name +
  value, optional body, HMAC-SHA256, uppercase hex).

Usage: verify.py [VECTORS_DIR]   (default: tests/vectors). Prints every
failure and a summary; exits non-zero if anything failed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

VECTORS_DIR = Path(__file__).resolve().parent.parent / "vectors"
HEADER_NAME = "X-Miva-API-Authorization"

TOP_LEVEL = {"source", "miva_token", "miva_hmac", "miva_ssh", "miravia"}
FIELDS = {
    "miva_token": ({"name", "token", "header_name", "header_value"}, set()),
    "miva_hmac": ({"name", "token", "signing_key", "digest", "body", "header_name",
                   "header_value"}, set()),
    "miva_ssh": ({"name", "username", "private_key", "digest", "body", "header_name",
                  "header_value"}, {"passphrase"}),
    "miravia": ({"name", "secret", "api_path", "params", "body", "sign"}, set()),
}


def run(argv, env_extra=None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update(env_extra or {})
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def decode_signing_key(key: str) -> bytes:
    padded = key + "=" * (-len(key) % 4)
    return base64.b64decode(padded, validate=True)


def check_token(v) -> None:
    assert v["header_value"] == f"MIVA {v['token']}", "header value"


def check_hmac(v) -> None:
    algo = {"sha256": hashlib.sha256, "sha1": hashlib.sha1}[v["digest"]]
    sig = hmac.new(decode_signing_key(v["signing_key"]), v["body"].encode("utf-8"),
                   algo).digest()
    scheme = {"sha256": "MIVA-HMAC-SHA256", "sha1": "MIVA-HMAC-SHA1"}[v["digest"]]
    expected = f"{scheme} {v['token']}:{base64.b64encode(sig).decode()}"
    assert v["header_value"] == expected, f"expected {expected}"


def _openssh_string(blob: bytes, pos: int) -> tuple[bytes, int]:
    n = int.from_bytes(blob[pos:pos + 4], "big")
    return blob[pos + 4:pos + 4 + n], pos + 4 + n


def key_format(text: str, path: Path) -> tuple[str, bool]:
    """(description, encrypted?) of a private key text, from its headers and
    structure alone (no passphrase needed)."""
    lines = text.strip().splitlines()
    first = lines[0].strip()
    if first == "-----BEGIN OPENSSH PRIVATE KEY-----":
        blob = base64.b64decode("".join(lines[1:-1]), validate=True)
        magic = b"openssh-key-v1\0"
        assert blob.startswith(magic), "not an openssh-key-v1 key"
        cipher, pos = _openssh_string(blob, len(magic))
        kdf, _ = _openssh_string(blob, pos)
        if cipher == b"none":
            return "OpenSSH, unencrypted", False
        return f"OpenSSH, {kdf.decode()} KDF + {cipher.decode()}", True
    if first == "-----BEGIN RSA PRIVATE KEY-----":
        if len(lines) > 1 and lines[1].strip() == "Proc-Type: 4,ENCRYPTED":
            m = re.fullmatch(r"DEK-Info: ([A-Z0-9-]+),([0-9A-F]+)", lines[2].strip())
            assert m, "Proc-Type: 4,ENCRYPTED without a DEK-Info line"
            return f"PKCS#1, legacy PEM encryption {m.group(1)}", True
        assert not any(line.startswith(("Proc-Type:", "DEK-Info:")) for line in lines), \
            "stray PEM encryption header"
        return "PKCS#1", False
    if first == "-----BEGIN PRIVATE KEY-----":
        return "PKCS#8", False
    if first == "-----BEGIN ENCRYPTED PRIVATE KEY-----":
        r = run(["openssl", "asn1parse", "-in", str(path)])
        assert r.returncode == 0, r.stderr.decode()
        objects, integers = [], []
        for line in r.stdout.decode().splitlines():
            if "OCTET STRING" in line and " d=1 " in line:
                break  # the encrypted data: the parameters are all before it
            m = re.search(r"prim: OBJECT\s+:(\S+)", line)
            if m:
                objects.append(m.group(1))
            m = re.search(r"prim: INTEGER\s+:([0-9A-F]+)", line)
            if m:
                integers.append(int(m.group(1), 16))
        if objects[:2] == ["PBES2", "PBKDF2"]:
            prf = objects[2] if len(objects) == 4 else "hmacWithSHA1 (default)"
            return (f"encrypted PKCS#8, PBES2 PBKDF2 {prf} {integers[0]} iterations "
                    f"+ {objects[-1]}"), True
        if objects[:2] in (["PBES2", "scrypt"], ["PBES2", "id-scrypt"]):
            n, r, p = integers[:3]
            return f"encrypted PKCS#8, PBES2 scrypt N={n} r={r} p={p} + {objects[-1]}", True
        return "encrypted PKCS#8, " + " ".join(objects), True
    raise AssertionError(f"unknown key format {first!r}")


class SshChecker:
    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="vector-verify-"))
        self.cache: dict[tuple, tuple[Path, Path, int, str]] = {}
        self.n = 0

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _file(self, data: bytes, suffix: str) -> Path:
        self.n += 1
        path = self.tmp / f"{self.n}{suffix}"
        path.write_bytes(data)
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        return path

    def keys(self, pem: str, passphrase: str | None) -> tuple[Path, Path, int, str]:
        """(unencrypted PEM private key, PEM public key, bits, format) for a key text."""
        cache_key = (pem, passphrase)
        if cache_key in self.cache:
            return self.cache[cache_key]
        src = self._file(pem.encode("utf-8"), ".key")
        fmt, encrypted = key_format(pem, src)
        assert encrypted == (passphrase is not None), \
            f"{fmt}: 'passphrase' must be present exactly for encrypted keys"
        env = {"VEC_PASS": passphrase or ""}
        if "OPENSSH PRIVATE KEY" in pem:
            r = run(["ssh-keygen", "-q", "-p", "-m", "PEM", "-f", str(src),
                     "-P", passphrase or "", "-N", ""])
            assert r.returncode == 0, r.stderr.decode()
            priv = src
        else:
            r = run(["openssl", "pkey", "-in", str(src), "-passin", "env:VEC_PASS"], env)
            assert r.returncode == 0, r.stderr.decode()
            priv = self._file(r.stdout, ".pem")
        r = run(["openssl", "pkey", "-in", str(priv), "-pubout"])
        assert r.returncode == 0, r.stderr.decode()
        pub = self._file(r.stdout, ".pub.pem")
        r = run(["openssl", "pkey", "-pubin", "-in", str(pub), "-noout", "-text"])
        bits = int(re.search(r"\((\d+) bit\)", r.stdout.decode()).group(1))
        self.cache[cache_key] = (priv, pub, bits, fmt)
        return priv, pub, bits, fmt

    def check(self, v) -> tuple[int, str]:
        scheme = {"sha256": "SSH-RSA-SHA2-256", "sha512": "SSH-RSA-SHA2-512"}[v["digest"]]
        prefix, _, rest = v["header_value"].partition(" ")
        assert prefix == scheme, f"scheme {prefix} for digest {v['digest']}"
        user_b64, _, sig_b64 = rest.partition(":")
        assert user_b64 == base64.b64encode(v["username"].encode("utf-8")).decode(), \
            "username part is not base64(utf8 username)"
        sig = base64.b64decode(sig_b64, validate=True)
        priv, pub, bits, fmt = self.keys(v["private_key"], v.get("passphrase"))
        assert len(sig) * 8 == bits, "signature length differs from key size"
        body = self._file(v["body"].encode("utf-8"), ".body")
        sig_file = self._file(sig, ".sig")
        r = run(["openssl", "dgst", f"-{v['digest']}", "-verify", str(pub),
                 "-signature", str(sig_file), str(body)])
        assert r.returncode == 0 and b"Verified OK" in r.stdout, "openssl -verify failed"
        r = run(["openssl", "dgst", f"-{v['digest']}", "-sign", str(priv), str(body)])
        assert r.returncode == 0 and r.stdout == sig, "openssl re-sign differs"
        return bits, fmt


def miravia_sign(v) -> str:
    params = v["params"]
    parts = [v["api_path"]]
    for name in sorted(params, key=lambda n: n.encode("utf-8")):
        if params[name] != "":
            parts.append(name + params[name])
    if v["body"] is not None:
        parts.append(v["body"])
    message = "".join(parts).encode("utf-8")
    return hmac.new(v["secret"].encode("utf-8"), message, hashlib.sha256).hexdigest().upper()


def check_miravia(v) -> None:
    assert all(isinstance(x, str) for x in v["params"].values()), "non-string value"
    assert v["body"] is None or isinstance(v["body"], str)
    assert re.fullmatch(r"[0-9A-F]{64}", v["sign"]), "sign is not uppercase hex"
    expected = miravia_sign(v)
    assert v["sign"] == expected, f"expected {expected}"


def main() -> int:
    vectors_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else VECTORS_DIR
    ssh = SshChecker()
    failures = []
    passed = 0
    summary = []
    try:
        files = sorted(vectors_dir.glob("*.json"))
        assert files, f"no vector files in {vectors_dir}"
        for path in files:
            doc = json.loads(path.read_text(encoding="utf-8"))
            extra = set(doc) - TOP_LEVEL
            if extra or not isinstance(doc.get("source"), str) or not doc["source"]:
                failures.append(f"{path.name}: bad top level (extra {sorted(extra)})")
                continue
            counts = []
            key_lines: list[str] = []
            names = set()
            for section, (required, optional) in FIELDS.items():
                entries = doc.get(section)
                if entries is None:
                    continue
                bits_seen = set()
                formats: dict[str, int] = {}
                key_texts = set()
                for v in entries:
                    label = f"{path.name} {section} {v.get('name')!r}"
                    keys = set(v)
                    if not required <= keys or keys - required - optional:
                        failures.append(f"{label}: fields {sorted(keys)}")
                        continue
                    if v["name"] in names:
                        failures.append(f"{label}: duplicate name")
                    names.add(v["name"])
                    try:
                        if section != "miravia":
                            assert v["header_name"] == HEADER_NAME, "header name"
                        if section == "miva_token":
                            check_token(v)
                        elif section == "miva_hmac":
                            check_hmac(v)
                        elif section == "miva_ssh":
                            bits, fmt = ssh.check(v)
                            bits_seen.add(bits)
                            formats[fmt] = formats.get(fmt, 0) + 1
                            key_texts.add(v["private_key"])
                        else:
                            check_miravia(v)
                        if path.name.startswith("lazop-sdk") and section == "miravia":
                            assert v["body"] is None, "lazop vectors carry no body"
                            assert all(x != "" for x in v["params"].values()), \
                                "lazop vectors must not contain empty values"
                        passed += 1
                    except (AssertionError, KeyError, ValueError, binascii.Error) as e:
                        failures.append(f"{label}: {e}")
                extra_info = f" (RSA {sorted(bits_seen)})" if bits_seen else ""
                counts.append(f"{section}={len(entries)}{extra_info}")
                if formats:
                    key_lines.append(f"    {section}: {len(key_texts)} key files, "
                                     f"{len(formats)} formats (entries x format):")
                    key_lines += [f"      {n:2} x {fmt}" for fmt, n in sorted(formats.items())]
            summary.append(f"  {path.name}: {', '.join(counts)}")
            summary += key_lines
    finally:
        ssh.close()
    print("vector files:")
    print("\n".join(summary))
    for f in failures:
        print("FAIL", f)
    print(f"vectors: {passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
