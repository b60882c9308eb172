#!/usr/bin/env python3
"""Writes a fresh 2048-bit RSA key pair and a self-signed certificate for the
interop tests: DIR/key.pem (PKCS#8, as in Google's service-account key
files), DIR/key.pub.pem (SubjectPublicKeyInfo) and DIR/cert.pem (X.509)."""

import datetime
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

out = sys.argv[1]
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
with open(f"{out}/key.pem", "wb") as f:
    f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))
with open(f"{out}/key.pub.pem", "wb") as f:
    f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.SubjectPublicKeyInfo))
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gapi-interop-sa")])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256()))
with open(f"{out}/cert.pem", "wb") as f:
    f.write(cert.public_bytes(serialization.Encoding.PEM))
