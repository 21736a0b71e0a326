"""Signed licence files: CLI key generation and rotation, download, offline
verification with the public key, tampering rejected."""

from __future__ import annotations

import base64
import re
import subprocess
import sys

import pytest

from .conftest import add_key, sign


def _cli(site, *args):
    return subprocess.run([sys.executable, "-m", "fuwu_plugins.serial_keys", "keys", *args,
                           "--home", str(site.config.home)], capture_output=True, text=True, check=True).stdout


def _verify_offline(text: str, pem: bytes):
    """What the customer's software does: only the public key and the file."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    body, _sep, signature = text.rpartition("signature: ")
    load_pem_public_key(pem).verify(base64.b64decode(signature.strip()), body.encode("utf-8"))


def test_licence_signed_verified_and_tampering_rejected(skweb):
    from cryptography.exceptions import InvalidSignature
    from fuwu_plugins.serial_keys import licence

    site, _app, browser = skweb
    contract_id, _cust = sign(site, customer="授权文件客户")
    key_id = add_key(site, contract_id, "ERP-LIC-0001", dongle="DG-LIC-01")
    b = browser("engineer")
    # no signing key yet: a clear message, no file
    r = b.get(f"/serial_keys/keys/{key_id}/licence")
    assert r.status_code == 422 and "keys generate" in r.text
    kid = _cli(site, "generate").split()[-1]
    assert _cli(site, "generate").split()[-1] == kid  # safe to run twice
    r = b.get(f"/serial_keys/keys/{key_id}/licence")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    text = r.text
    assert f"key-id: {kid}\n" in text and "serial: ERP-LIC-0001\n" in text and "customer: 授权文件客户\n" in text
    assert re.search(r"expires: \d{4}-\d\d-\d\d\n", text)
    pem = licence.public_keys(site.config.home)[kid]
    _verify_offline(text, pem)
    assert licence.verify(text, pem)["serial"] == "ERP-LIC-0001"
    tampered = re.sub(r"expires: \d{4}", "expires: 2099", text)
    with pytest.raises(InvalidSignature):
        _verify_offline(tampered, pem)
    with pytest.raises(ValueError):
        licence.verify(tampered, pem)
    # rotation: new licences use the new key, the old public key still verifies old files
    new_kid = _cli(site, "rotate").split()[-1]
    assert new_kid != kid
    shown = _cli(site, "show")
    assert kid in shown and new_kid in shown
    licence.verify(text, licence.public_keys(site.config.home)[kid])
    newer = b.get(f"/serial_keys/keys/{key_id}/licence").text
    assert f"key-id: {new_kid}\n" in newer
    with pytest.raises(ValueError):
        licence.verify(newer, pem)
    assert kid in b.get("/serial_keys/licence/public-keys").text


def test_no_licence_for_a_revoked_key_and_private_key_is_private(skweb):
    import os

    from fuwu_plugins.serial_keys import licence

    site, _app, browser = skweb
    contract_id, _cust = sign(site)
    key_id = add_key(site, contract_id, "ERP-LIC-REV1", revoked=True)
    _cli(site, "generate")
    assert browser("engineer").get(f"/serial_keys/keys/{key_id}/licence").status_code == 422
    mode = os.stat(licence.folder(site.config.home) / "active.pem").st_mode & 0o777
    assert mode == 0o600
