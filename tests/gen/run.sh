#!/usr/bin/env bash
# Regenerate tests/vectors/*.json from the official SDKs and OpenSSL, then
# check them independently. Needs python3 (with venv), openssl, ssh-keygen
# and access to PyPI. See README.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
"$venv/bin/python" "$here/generate.py"
# verify.py uses only the standard library, openssl and ssh-keygen.
python3 "$here/verify.py"
