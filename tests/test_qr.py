"""The QR form of a stamp: version <= 7 at level M, two segments, decoded by an independent decoder."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from pathlib import Path

import pytest
import qrcode
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image
from qrcode.util import MODE_8BIT_BYTE, MODE_ALPHA_NUM, QRData

from keys.keyfile import key_hint
from stamps.code import STAMP_TAG, encode_base32, header_bytes
from stamps.demo import run_demo
from stamps.instance import Instance
from stamps.qr import make_qr
from stamps.url import code_url, qr_segments
from stamps.verify import Result

HOST_30 = "ocop-truyxuat.dienbien.gov.vn"  # 29 characters + 1 below
BASE_URLS = ["https://" + HOST_30 + "x", "http://" + HOST_30 + "x", "https://truyxuat.example.vn", "http://192.168.1.20:8000"]


def sample_url(base_url: str, serial: int = 9_999_999) -> str:
    key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"qr test key").digest())
    header = header_bytes(key_hint(key.public_key()), bytes(range(10)), serial)
    return code_url(base_url, encode_base32(header + key.sign(STAMP_TAG + header)))


def qrcode_matrix(segments: list[tuple[bytes, int]], version: int, mask: int) -> list[list[bool]]:
    """The same symbol built by the qrcode library from explicit segments: an independent encoder."""
    symbol = qrcode.QRCode(version=version, error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, mask_pattern=mask)
    for data, mode in segments:
        symbol.add_data(QRData(data, mode=mode))
    symbol.make(fit=False)
    return symbol.get_matrix()


def test_the_host_is_thirty_characters() -> None:
    assert len(BASE_URLS[0].split("://")[1]) == 30


@pytest.mark.parametrize("base_url", BASE_URLS)
def test_version_7_or_less_at_level_m(base_url: str) -> None:
    symbol = make_qr(sample_url(base_url))
    assert symbol.version <= 7 and symbol.error == "M" and not symbol.is_micro


@pytest.mark.parametrize("base_url", BASE_URLS)
def test_byte_segment_for_the_scheme_then_one_alphanumeric_segment(base_url: str) -> None:
    url = sample_url(base_url)
    scheme, rest = url.split("://")
    assert qr_segments(url) == [(scheme + "://", "byte"), (rest, "alphanumeric")]
    assert scheme.islower() and rest.isupper()
    symbol = make_qr(url)
    expected = qrcode_matrix([((scheme + "://").encode(), MODE_8BIT_BYTE), (rest.encode(), MODE_ALPHA_NUM)], symbol.version, symbol.mask)
    assert [[bool(module) for module in row] for row in symbol.matrix] == expected


def test_an_all_byte_mode_symbol_would_not_fit_version_7() -> None:
    """Why the segments matter: the same URL in lower case, byte mode only, needs a larger symbol."""
    url = sample_url(BASE_URLS[0]).lower()
    symbol = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    symbol.add_data(QRData(url.encode(), mode=MODE_8BIT_BYTE))
    symbol.make(fit=True)
    assert symbol.version > 7


def decode_png(path: Path) -> list[zxingcpp.Barcode]:
    with Image.open(path) as image:
        return zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCodeModel2)


@pytest.mark.parametrize("base_url", BASE_URLS)
def test_rendered_png_decodes_to_exactly_the_url(base_url: str, tmp_path: Path) -> None:
    url = sample_url(base_url)
    make_qr(url).save(str(tmp_path / "stamp.png"), kind="png", scale=4, border=4)
    [found] = decode_png(tmp_path / "stamp.png")
    assert found.text == url and found.format == zxingcpp.BarcodeFormat.QRCode
    assert found.extra["ECLevel"] == "M" and int(found.extra["Version"]) <= 7


def test_issued_pngs_decode_to_the_issued_codes_which_verify(tmp_path: Path) -> None:
    run = run_demo(tmp_path / "demo", "https://" + HOST_30 + "x")
    with open(run.output / "codes.csv", encoding="utf-8") as handle:
        issued = {int(row["serial"]): row["code"] for row in csv.DictReader(handle)}
    assert len(issued) == 20 and len(list((run.output / "svg").glob("*.svg"))) == 20
    instance = Instance.open(run.instance_root)
    try:
        verifier = instance.verifier()
        for serial, url in issued.items():
            [found] = decode_png(run.output / "png" / f"{serial:07d}.png")
            assert found.text == url
            outcome = verifier.verify(found.text, today=dt.date(2026, 11, 23))
            assert outcome.result is Result.GENUINE and outcome.stamp is not None and outcome.stamp.serial == serial
    finally:
        instance.close()
