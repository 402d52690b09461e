#!/usr/bin/env bash
# Regenerates the key fixtures for miva-sign's tests with OpenSSL and
# ssh-keygen. Every key here is a throwaway made for tests: it belongs to no
# store. Expected signatures come from `openssl dgst -sign`, not from our code.
set -euo pipefail
cd "$(dirname "$0")"
rm -f ./*.pem ./*.pub ./*.key ./*.sig
PASS='correct horse battery staple'
printf '%s' '{"Function":"ProductList_Load_Query","Store_Code":"ÉTÉ","Count":1,"Miva_Request_Timestamp":1700000000}' > body.json

openssl genrsa -traditional -out rsa2048-pkcs1.pem 2048 2>/dev/null
openssl pkcs8 -topk8 -nocrypt -in rsa2048-pkcs1.pem -out rsa2048-pkcs8.pem
openssl pkcs8 -topk8 -v2 aes-256-cbc -passout "pass:$PASS" -in rsa2048-pkcs1.pem -out rsa2048-pkcs8-enc.pem
# OpenSSL's legacy PEM encryption, three ways: what `openssl rsa -aes256`,
# `openssl rsa -des3` and `ssh-keygen -m PEM -N ...` (AES-128-CBC) write.
openssl rsa -traditional -aes256 -passout "pass:$PASS" -in rsa2048-pkcs1.pem -out rsa2048-legacy-aes256.pem 2>/dev/null
openssl rsa -traditional -des3 -passout "pass:$PASS" -in rsa2048-pkcs1.pem -out rsa2048-legacy-des3.pem 2>/dev/null
cp rsa2048-pkcs1.pem rsa2048-legacy-sshkeygen.pem && chmod 600 rsa2048-legacy-sshkeygen.pem
ssh-keygen -q -p -m PEM -N "$PASS" -f rsa2048-legacy-sshkeygen.pem
# PKCS#8 the way older tools and pycryptodome write it: PBKDF2-SHA1 with 3DES.
openssl pkcs8 -topk8 -v2 des3 -v2prf hmacWithSHA1 -passout "pass:$PASS" -in rsa2048-pkcs1.pem -out rsa2048-pkcs8-sha1-3des.pem
cp rsa2048-pkcs1.pem rsa2048-openssh.key && chmod 600 rsa2048-openssh.key
ssh-keygen -q -p -N '' -f rsa2048-openssh.key
cp rsa2048-pkcs1.pem rsa2048-openssh-enc.key && chmod 600 rsa2048-openssh-enc.key
ssh-keygen -q -p -N "$PASS" -f rsa2048-openssh-enc.key
ssh-keygen -y -f rsa2048-pkcs1.pem > rsa2048.pub
openssl rsa -in rsa2048-pkcs1.pem -pubout -out rsa2048-spki.pem 2>/dev/null
openssl rsa -in rsa2048-pkcs1.pem -RSAPublicKey_out -out rsa2048-pkcs1-pub.pem 2>/dev/null
openssl dgst -sha256 -sign rsa2048-pkcs1.pem body.json | base64 -w0 > body.rsa2048.sha256.sig
openssl dgst -sha512 -sign rsa2048-pkcs1.pem body.json | base64 -w0 > body.rsa2048.sha512.sig

# Keys ring refuses (size not a multiple of 512, over 4096 bits, exponent 3):
# they sign through the portable fallback, byte-identically.
openssl genrsa -traditional -out rsa2560-pkcs1.pem 2560 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -pkeyopt rsa_keygen_pubexp:3 -out rsa2048-e3-pkcs8.pem 2>/dev/null
openssl genrsa -traditional -out rsa4608-pkcs1.pem 4608 2>/dev/null
cp rsa4608-pkcs1.pem rsa4608-openssh.key && chmod 600 rsa4608-openssh.key
ssh-keygen -q -p -N '' -f rsa4608-openssh.key
for k in rsa2560-pkcs1.pem rsa2048-e3-pkcs8.pem rsa4608-pkcs1.pem; do
    openssl dgst -sha256 -sign "$k" body.json | base64 -w0 > "body.${k%.pem}.sha256.sig"
    openssl dgst -sha512 -sign "$k" body.json | base64 -w0 > "body.${k%.pem}.sha512.sig"
done
ssh-keygen -y -f rsa2048-e3-pkcs8.pem > rsa2048-e3.pub

openssl genrsa -traditional -out rsa1024-pkcs1.pem 1024 2>/dev/null
ssh-keygen -q -t ed25519 -N '' -C test -f ed25519-openssh.key && mv ed25519-openssh.key.pub ed25519.pub
openssl genpkey -algorithm ed25519 -out ed25519-pkcs8.pem
openssl ecparam -name prime256v1 -genkey -noout -out ecdsa-sec1.pem
chmod 644 ./*.key ./*.pem
