"""Signed licence files: Ed25519 over the licence's text, checkable offline.

The signing key lives in the site's home folder (next to ``fuwu.toml``), not
in the database: ``<home>/serial_keys/signing/active.pem`` (mode 600), with
every public key ever used kept as ``<key id>.pub.pem`` so licences signed
before a rotation still verify. ``python -m fuwu_plugins.serial_keys keys
generate|rotate|show`` manages them.

A licence is UTF-8 text: ``field: value`` lines, then a ``signature:`` line
holding the base64 Ed25519 signature of every byte before that line.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

HEADER = "FUWU-LICENCE 1"
FIELDS = ("key-id", "serial", "service-code", "dongle", "customer", "product", "expires", "issued")


class NoSigningKey(RuntimeError):
    pass


def folder(home: Path) -> Path:
    return Path(home) / "serial_keys" / "signing"


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def generate(home: Path, *, rotate: bool = False) -> str:
    """Create the signing key (or a new one with ``rotate``); returns its id."""
    where = folder(home)
    active = where / "active.pem"
    if active.exists() and not rotate:
        return key_id(load_private(home).public_key())
    where.mkdir(parents=True, exist_ok=True)
    private = Ed25519PrivateKey.generate()
    kid = key_id(private.public_key())
    (where / f"{kid}.pub.pem").write_bytes(public_pem(private.public_key()))
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    tmp = where / "active.pem.new"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    os.replace(tmp, active)  # the old private key is gone; its public key stays
    return kid


def load_private(home: Path) -> Ed25519PrivateKey:
    path = folder(home) / "active.pem"
    if not path.exists():
        raise NoSigningKey(str(path))
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def public_keys(home: Path) -> dict[str, bytes]:
    where = folder(home)
    if not where.exists():
        return {}
    return {p.name.removesuffix(".pub.pem"): p.read_bytes() for p in sorted(where.glob("*.pub.pem"))}


@dataclass(frozen=True)
class LicenceData:
    serial: str
    service_code: str
    dongle: str
    customer: str
    product: str
    expires: date | None
    issued: date


def _clean(value: str) -> str:
    return " ".join(str(value).split())  # no line breaks inside a field


def sign(home: Path, data: LicenceData) -> str:
    private = load_private(home)
    values = {"key-id": key_id(private.public_key()), "serial": data.serial, "service-code": data.service_code,
              "dongle": data.dongle or "-", "customer": data.customer, "product": data.product,
              "expires": data.expires.isoformat() if data.expires else "-", "issued": data.issued.isoformat()}
    body = HEADER + "\n" + "".join(f"{name}: {_clean(values[name])}\n" for name in FIELDS)
    signature = base64.b64encode(private.sign(body.encode("utf-8"))).decode("ascii")
    return f"{body}signature: {signature}\n"


def verify(text: str, public_pem_bytes: bytes) -> dict[str, str]:
    """The licence's fields if the signature holds; ValueError otherwise."""
    body, sep, tail = text.rpartition("signature: ")
    if not sep or not body.startswith(HEADER + "\n"):
        raise ValueError("not a licence")
    public = serialization.load_pem_public_key(public_pem_bytes)
    try:
        public.verify(base64.b64decode(tail.strip(), validate=True), body.encode("utf-8"))
    except (InvalidSignature, ValueError) as exc:
        raise ValueError("signature does not match") from exc
    fields = {}
    for line in body.splitlines()[1:]:
        name, _sep, value = line.partition(": ")
        fields[name] = value
    return fields
