"""The web verifier through Flask's test client: every result page in both languages, the scan log, the API."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import importlib
import io
import json
import os
import shutil
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient
from click.testing import CliRunner
from PIL import Image

from cli import cli as ocop_cli

from keys.keyfile import key_hint, public_key_bytes
from stamps import present, registry, verify
from stamps.code import STAMP_TAG, UnverifiedStamp, header_bytes
from stamps.demo import DEMO_PASSPHRASE, DemoRun, demo_data, run_demo
from stamps.errors import StampError
from stamps.instance import Instance
from stamps.issuance import StampSigner, allocate_serials
from verify_server import create_app
from verify_server import routes, view

BASE_URL = "https://truyxuat.example.vn"
PRODUCT = "Trà San tuyết PH.14 hữu cơ"
PRODUCER = "Công ty TNHH trà Phan Nhất"


@dataclasses.dataclass
class Site:
    """A demo instance, its signing key and a verifier app over it."""

    demo: DemoRun
    key: Ed25519PrivateKey
    app: Flask

    @property
    def client(self) -> FlaskClient:
        return self.app.test_client()

    def open(self) -> Instance:
        return Instance.open(self.demo.instance_root)

    def code(self, serial: int) -> str:
        return StampSigner(self.key, self.demo.batch, BASE_URL).code(serial).url

    def page(self, url: str, lang: str = "vi", address: str = "127.0.0.1", **headers: str) -> tuple[int, str]:
        response = self.client.get(path_of(url), headers={"Accept-Language": lang, **headers},
                                   environ_base={"REMOTE_ADDR": address})
        return response.status_code, response.get_data(as_text=True)


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def forged_stamp(key: Ed25519PrivateKey, digest_prefix: bytes, serial: int = 1) -> str:
    """A correctly signed token for any digest prefix (a batch the verifier may not know)."""
    hint = key_hint(key.public_key())
    header = header_bytes(hint, digest_prefix, serial)
    return UnverifiedStamp(hint, digest_prefix, serial, key.sign(STAMP_TAG + header)).token


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """One demo instance per module (making one derives a key from a passphrase, which is slow on purpose)."""
    return run_demo(tmp_path_factory.mktemp("template") / "inst", BASE_URL)


def fresh_demo(template: DemoRun, tmp_path: Path) -> DemoRun:
    """A private copy of the template instance, so each test starts with an empty scan log."""
    root = tmp_path / "inst"
    shutil.copytree(template.instance_root, root)
    return dataclasses.replace(template, instance_root=root)


@pytest.fixture()
def site(demo_template: DemoRun, tmp_path: Path) -> Iterator[Site]:
    demo = fresh_demo(demo_template, tmp_path)
    instance = Instance.open(demo.instance_root)
    key = instance.signing_key(DEMO_PASSPHRASE)
    instance.close()
    app = create_app({"INSTANCE": str(demo.instance_root), "TESTING": True})
    yield Site(demo, key, app)
    app.extensions["ocop_runtime"].close()


def table_rows(root: Path, table: str) -> list[dict[str, Any]]:
    """A table's rows as the store reads them whole, in the order they were written."""
    instance = Instance.open(root, read_only=True)
    try:
        columns = instance.store.table_columns(table)
        return [dict(zip(columns, row)) for chunk in instance.store.read_table(table, columns) for row in chunk]
    finally:
        instance.close()


def scan_rows(site: Site) -> list[dict[str, Any]]:
    site.app.extensions["ocop_runtime"].scan_log.flush()
    return sorted(table_rows(site.demo.instance_root, "scans"), key=lambda row: row["id"])


# --- one page per result, in both languages ---------------------------------------------------------------

GENUINE_FIELDS = [PRODUCT, PRODUCER, "VN-DB-XL-0001-24", "https://www.google.com/maps/search/?api=1&amp;query=21.6012,103.371",
                  "Thu hái (harvested)", "Đóng gói (packed)", "PH14-2611-01", "★★★★☆", "DB-2024-0114"]


def batch_dates(site: Site) -> list[str]:
    """Harvest, production and expiry of the demo batch as the page shows them (the demo's dates follow the day it ran)."""
    batch = site.demo.batch.record["batch"]
    return [dt.date.fromisoformat(batch[name]).strftime("%d/%m/%Y") for name in ("harvest_date", "production_date", "expiry_date")]


def day_after_expiry(site: Site) -> dt.date:
    return dt.date.fromisoformat(site.demo.batch.record["batch"]["expiry_date"]) + dt.timedelta(days=1)
LABELS = {"vi": ["Chủ thể", "Mã lô", "Số sê-ri", "Ngày thu hoạch", "Ngày sản xuất (NSX)", "Hạn sử dụng (HSD)", "Công đoạn",
                 "Vùng trồng", "Tiêu chuẩn áp dụng", "4 sao OCOP"],
          "en": ["Producer", "Lot", "Serial", "Harvested", "Produced", "Expiry date", "Step", "Farm area", "Standards",
                 "4-star OCOP"]}


def test_genuine_page_in_vietnamese(site: Site) -> None:
    status, html = site.page(site.code(2))
    assert status == 200 and '<html lang="vi">' in html
    assert 'data-result="genuine"' in html and "<h1>Tem chính hãng</h1>" in html
    for expected in GENUINE_FIELDS + batch_dates(site) + LABELS["vi"]:
        assert expected in html, expected
    assert "<dt>Số sê-ri</dt><dd>2</dd>" in html
    assert "Chưa có nơi nào khác quét tem này." in html


def test_genuine_page_in_english(site: Site) -> None:
    status, html = site.page(site.code(2), "en-US,en;q=0.9")
    assert status == 200 and '<html lang="en">' in html and "<h1>Genuine</h1>" in html
    for expected in GENUINE_FIELDS + batch_dates(site) + LABELS["en"]:
        assert expected in html, expected
    assert "No other place has scanned this stamp." in html


@pytest.mark.parametrize("lang, title, reason", [
    ("vi", "Tem chính hãng, có cảnh báo", "Sản phẩm đã quá hạn sử dụng."),
    ("en", "Genuine, with a warning", "The product is past its expiry date."),
])
def test_expired_product_is_amber(site: Site, monkeypatch: pytest.MonkeyPatch, lang: str, title: str, reason: str) -> None:
    monkeypatch.setattr(routes, "vietnam_today", lambda: day_after_expiry(site))
    status, html = site.page(site.code(3), lang)
    assert status == 200 and f"<h1>{title}</h1>" in html and 'class="verdict warning"' in html
    assert reason in html and PRODUCT in html


@pytest.mark.parametrize("lang, title, notice, advice", [
    ("vi", "Cảnh báo: có thể là tem sao chép", "đến nay đã được quét ở 3 nơi khác", "tem có thể đã bị sao chép"),
    ("en", "Warning: possibly a copied stamp", "scanned from 3 other places so far", "the stamp may have been copied"),
])
def test_scans_from_many_places_make_a_possible_copy(demo_template: DemoRun, tmp_path: Path, lang: str, title: str,
                                                     notice: str, advice: str) -> None:
    demo = fresh_demo(demo_template, tmp_path)
    client = create_app({"INSTANCE": str(demo.instance_root), "COPY_THRESHOLD": 2}).test_client()
    pages = [client.get(path_of(demo.genuine_url), headers={"Accept-Language": lang},
                        environ_base={"REMOTE_ADDR": f"203.0.{place}.9"}).get_data(as_text=True) for place in range(4)]
    assert all('data-result="genuine"' in page for page in pages[:3])
    assert f"<h1>{title}</h1>" in pages[3] and notice in pages[3] and advice in pages[3]
    assert "<h1>Tem chính hãng" not in pages[3] and 'data-result="genuine_warning"' in pages[3]
    first_scan = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).strftime("%d/%m/%Y")
    assert first_scan in pages[3]


def test_one_place_scanning_again_and_again_never_makes_a_copy(site: Site) -> None:
    """A prankster reloading a genuine unit's page does not turn it amber for later buyers."""
    for _ in range(30):
        site.page(site.code(6), address="198.51.100.23")
    status, html = site.page(site.code(6), address="192.0.2.50")  # the real buyer, later
    assert status == 200 and 'data-result="genuine"' in html
    assert "đến nay đã được quét ở 1 nơi khác" in html


def test_one_place_adds_at_most_one_a_day(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    for day in range(1, 4):
        monkeypatch.setattr(routes, "vietnam_today", lambda day=day: dt.date(2026, 12, day))
        for _ in range(5):
            site.page(site.code(7), address="198.51.100.23")
    monkeypatch.setattr(routes, "vietnam_today", lambda: dt.date(2026, 12, 4))
    answer = site.client.get("/api/v1/verify", query_string={"code": site.code(7)},
                             environ_base={"REMOTE_ADDR": "192.0.2.50"}).get_json()
    assert answer["scans"]["other_places"] == 3


def test_one_client_changing_its_user_agent_makes_two_places_at_most(site: Site) -> None:
    agents = ["Mozilla/5.0 (Linux; Android 14)", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0)", "Mozilla/5.0 (Windows NT 10.0)",
              "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0)", "Mozilla/5.0 (X11; CrOS x86_64)", "Mozilla/5.0 (X11; Linux)",
              "curl/8.5", "Lynx/2.9"]
    for agent in agents:
        site.page(site.code(9), address="198.51.100.23", **{"User-Agent": agent})
    answer = site.client.get("/api/v1/verify", query_string={"code": site.code(9)}, environ_base={"REMOTE_ADDR": "192.0.2.50"})
    assert answer.get_json()["scans"]["other_places"] == 2 and answer.get_json()["result"] == "genuine"  # a phone, a computer


def test_addresses_of_one_network_and_one_kind_of_device_are_one_place(site: Site) -> None:
    for host in range(1, 20):
        site.page(site.code(8), address=f"198.51.100.{host}")
    site.page(site.code(8), address="198.51.100.77", **{"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0)"})
    answer = site.client.get("/api/v1/verify", query_string={"code": site.code(8)},
                             environ_base={"REMOTE_ADDR": "192.0.2.50"}).get_json()
    assert answer["scans"]["other_places"] == 2  # the /24 with a desktop browser, the same /24 with an iPhone


@pytest.mark.parametrize("lang, title, texts", [
    ("vi", "Lô hàng đã bị thu hồi", ["Thu hồi ngày 20/11/2026 (bắt buộc). Lý do: Nhiễm nấm mốc &lt;lô 7&gt;", "Không sử dụng sản phẩm này"]),
    ("en", "Batch recalled", ["Recalled on 20/11/2026 (mandatory). Reason: Nhiễm nấm mốc &lt;lô 7&gt;", "Do not use this product"]),
])
def test_recalled_page(site: Site, lang: str, title: str, texts: list[str]) -> None:
    instance = site.open()
    registry.recall_batch(instance.store, site.demo.batch.digest, "Nhiễm nấm mốc <lô 7>", "mandatory", dt.date(2026, 11, 20))
    instance.close()
    status, html = site.page(site.code(4), lang)
    assert status == 200 and f"<h1>{title}</h1>" in html and 'class="verdict danger"' in html
    for expected in texts + [PRODUCT, "PH14-2611-01"]:
        assert expected in html, expected


@pytest.mark.parametrize("lang, title, texts, said_again", [
    ("vi", "Khóa ký đã bị thu hồi", ["Lý do thu hồi khóa: khóa bị lộ", "Hãy báo cho cửa hàng"], "thu hồi."),
    ("en", "Signing key revoked", ["Why the key was revoked: khóa bị lộ", "Tell the shop"], "revoked."),
])
def test_revoked_key_page(site: Site, lang: str, title: str, texts: list[str], said_again: str) -> None:
    instance = site.open()
    instance.trust.set_status(site.demo.batch.record["key_id"], "revoked", "khóa bị lộ")
    instance.close()
    status, html = site.page(site.code(5), lang)
    assert status == 200 and f"<h1>{title}</h1>" in html and 'class="verdict danger"' in html
    for expected in texts:
        assert expected in html, expected
    assert PRODUCT not in html  # nothing of the record is shown for a revoked key
    verdict = html.split('<details class="details">')[0]  # the page a shopper reads, without the details box
    assert 'class="reasons"' not in verdict and said_again not in verdict  # the headline says it, nothing repeats it


@pytest.mark.parametrize("lang, title, tone, lead", [
    ("vi", "Không rõ đơn vị phát hành", "unknown", "Mã được ký bằng một khóa mà trang xác thực này không biết."),
    ("en", "Unknown issuer", "unknown", "The code is signed by a key this verifier does not know."),
])
def test_unknown_issuer_page(site: Site, lang: str, title: str, tone: str, lead: str) -> None:
    stranger = Ed25519PrivateKey.generate()
    token = forged_stamp(stranger, site.demo.batch.signed.digest_prefix)
    status, html = site.page(f"{BASE_URL}/V/{token}", lang)
    assert status == 200 and f"<h1>{title}</h1>" in html and f'class="verdict {tone}"' in html and lead in html
    assert PRODUCT not in html


@pytest.mark.parametrize("lang, title, texts", [
    ("vi", "Tem giả", ["Chữ ký không khớp: mã đã bị sửa hoặc làm giả.", "Sản phẩm có thể là hàng giả."]),
    ("en", "Forged", ["The signature does not match the code", "The product may be counterfeit."]),
])
def test_forged_page(site: Site, lang: str, title: str, texts: list[str]) -> None:
    status, html = site.page(site.demo.tampered_url, lang)
    assert status == 200 and f"<h1>{title}</h1>" in html and 'class="verdict danger"' in html
    for expected in texts:
        assert expected in html
    assert PRODUCT not in html and "lần quét" not in html and "scan of this stamp" not in html


@pytest.mark.parametrize("lang, title, text", [
    ("vi", "Không phải tem truy xuất", "Mã có độ dài không đúng."),
    ("en", "Not a stamp", "The code has the wrong length."),
])
def test_not_a_stamp_page_is_a_friendly_404(site: Site, lang: str, title: str, text: str) -> None:
    status, html = site.page(f"{BASE_URL}/V/ABCDEF", lang)
    assert status == 404 and f"<h1>{title}</h1>" in html and 'class="verdict neutral"' in html and text in html


@pytest.mark.parametrize("lang, title, texts", [
    ("vi", "Chưa có thông tin lô hàng", ["Chữ ký hợp lệ, nhưng trang này chưa có hồ sơ của lô hàng.", "Được ký bởi: Demo key"]),
    ("en", "Unknown batch", ["The signature is valid, but this verifier has no record of the batch yet.", "Signed by: Demo key"]),
])
def test_unknown_batch_page(site: Site, lang: str, title: str, texts: list[str]) -> None:
    token = forged_stamp(site.key, bytes(10), serial=9)
    status, html = site.page(f"{BASE_URL}/V/{token}", lang)
    assert status == 200 and f"<h1>{title}</h1>" in html and 'class="verdict warning"' in html
    for expected in texts + [">9</dd>"]:
        assert expected in html, expected


# --- language choice -------------------------------------------------------------------------------------

@pytest.mark.parametrize("accept, query, lang", [
    (None, "", "vi"), ("fr-FR,fr;q=0.9", "", "vi"), ("en-GB", "", "en"), ("vi-VN,vi;q=0.9,en;q=0.8", "", "vi"),
    ("vi;q=0.4,en;q=0.9", "", "en"), ("en", "?lang=vi", "vi"), (None, "?lang=en", "en"), ("en", "?lang=xx", "en"),
])
def test_language_choice(site: Site, accept: str | None, query: str, lang: str) -> None:
    headers = {"Accept-Language": accept} if accept else {}
    response = site.client.get(path_of(site.code(6)) + query, headers=headers)
    assert f'<html lang="{lang}">' in response.get_data(as_text=True)
    assert "Accept-Language" in response.headers["Vary"]


def test_visible_language_switch_links_to_the_other_language(site: Site) -> None:
    _, html = site.page(site.code(6))
    assert '<a href="?lang=en" hreflang="en">English</a>' in html
    _, english = site.page(site.code(6), "en")
    assert '<a href="?lang=vi" hreflang="vi">Tiếng Việt</a>' in english


@pytest.mark.parametrize("suffix", ["/", "/extra", "%2F"])
def test_a_stamp_path_with_more_after_the_code_is_the_friendly_not_a_stamp_page(site: Site, suffix: str) -> None:
    response = site.client.get(path_of(site.code(7)) + suffix)
    assert response.status_code == 404 and 'data-result="not_a_stamp"' in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "public, max-age=3600" and response.headers["Vary"] == "Accept-Language"


def test_scan_route_accepts_any_letter_case(site: Site) -> None:
    path = path_of(site.code(7))
    for variant in (path, path.lower(), "/v/" + path[3:], "/V/" + path[3:].lower()):
        assert 'data-result="genuine"' in site.client.get(variant).get_data(as_text=True), variant


def test_the_page_cache_key_tells_apart_every_page_that_differs(site: Site) -> None:
    """The scan route renders a page once per view.page_key: two verifications may share a key only if they share a page."""
    instance = site.open()
    try:
        verifier = instance.verifier()
        genuine = verifier.verify(site.code(3))
        key = genuine.key
        assert key is not None and genuine.batch is not None
        variants = [genuine, verifier.verify(site.code(4)), genuine.with_warning("possible_copy"),
                    verifier.verify(site.code(3), today=dt.date(2099, 1, 1)), verifier.verify("not a stamp"),
                    verifier.verify(forged_stamp(Ed25519PrivateKey.generate(), genuine.batch.signed.digest_prefix)),
                    dataclasses.replace(genuine, checked_on=genuine.checked_on + dt.timedelta(days=1)),
                    dataclasses.replace(genuine, key=dataclasses.replace(key, label="Another label")),
                    dataclasses.replace(genuine, key=dataclasses.replace(key, status="retired")),
                    dataclasses.replace(genuine, batch=dataclasses.replace(genuine.batch, recall={
                        "kind": "mandatory", "reason": "Nhiễm nấm mốc", "recalled_on": "2026-11-20"})),
                    dataclasses.replace(genuine, batch=dataclasses.replace(genuine.batch, recall={
                        "kind": "mandatory", "reason": "Another reason", "recalled_on": "2026-11-20"}))]
    finally:
        instance.close()
    pages: dict[object, tuple[object, object]] = {}
    for verification in variants:
        for lang in ("vi", "en"):
            page = (view.result_page(verification, lang), verification.batch.digest if verification.batch else None)
            assert pages.setdefault(view.page_key(verification, lang), page) == page
    assert len(pages) == len({page for page in pages.values()}) == 2 * (len(variants) - 1)  # serials 3 and 4 share one


# --- phones on weak networks -------------------------------------------------------------------------------

def test_pages_have_no_external_assets_and_stay_small(site: Site) -> None:
    for url in (site.code(8), site.demo.tampered_url, f"{BASE_URL}/V/X"):
        response = site.client.get(path_of(url))
        html = response.get_data(as_text=True)
        assert len(response.data) < 50 * 1024
        assert "<script" not in html and "@import" not in html and "url(" not in html
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
        assert not [src for src in html.split('src="')[1:] if src.startswith(("http", "//"))]


def tiny_png(size: int) -> bytes:
    """A noisy PNG of about *size* bytes (noise does not compress)."""
    side = int((size / 3) ** 0.5)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, "PNG")
    return buffer.getvalue()


def test_product_thumbnail_is_served_content_addressed_and_page_stays_under_50_kb(demo_template: DemoRun, tmp_path: Path) -> None:
    image = tiny_png(19_000)
    assert len(image) <= 20 * 1024
    app, url = image_batch(fresh_demo(demo_template, tmp_path), image)
    client = app.test_client()
    page = client.get(path_of(url))
    sha256 = hashlib.sha256(image).hexdigest()
    assert f'<img src="/img/{sha256}"' in page.get_data(as_text=True)
    picture = client.get(f"/img/{sha256}")
    assert picture.status_code == 200 and picture.data == image and picture.mimetype == "image/png"
    assert "immutable" in picture.headers["Cache-Control"]
    assert len(page.data) + len(picture.data) < 50 * 1024
    assert client.get("/img/" + "0" * 64).status_code == 404 and client.get("/img/nothex").status_code == 404


def image_batch(demo: DemoRun, image: bytes) -> tuple[Flask, str]:
    instance = Instance.open(demo.instance_root)
    key = instance.signing_key(DEMO_PASSPHRASE)
    data = demo_data()["producers"][0]
    product = {name: value for name, value in data["products"][0].items() if name != "key"}
    product_id = registry.add_product(instance.store, 1, product, image=image)
    batch = registry.create_batch(instance.store, key, product_id, [1], {**demo_data()["batch"]["fields"], "lot_code": "IMG-1"})
    serials = allocate_serials(instance.store, batch, 1)
    url = StampSigner(key, batch, BASE_URL).code(serials.first).url
    instance.close()
    return create_app({"INSTANCE": str(demo.instance_root)}), url


# --- the scan log ------------------------------------------------------------------------------------------

def test_each_scan_of_a_well_formed_code_is_logged_without_an_ip(site: Site) -> None:
    android = "Mozilla/5.0 (Linux; Android 14; SM-A155F) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36"
    site.client.get(path_of(site.code(10)), headers={"User-Agent": android}, environ_base={"REMOTE_ADDR": "203.0.113.77"})
    site.client.get(path_of(site.demo.tampered_url))
    site.client.get("/V/NOTASTAMP")
    rows = scan_rows(site)
    assert [(row["serial"], row["result"], row["client"], row["counted"]) for row in rows] == [
        (10, "genuine", "page/android", 1), (rows[1]["serial"], "forged", "page/other", 0)]
    assert all("203.0.113" not in str(value) for row in rows for value in tuple(row))
    assert dt.datetime.fromisoformat(rows[0]["scanned_at"].replace("Z", "+00:00")).tzinfo is not None


def test_head_requests_and_link_preview_bots_do_not_count(site: Site) -> None:
    path = path_of(site.code(11))
    site.client.head(path)
    site.client.get(path, headers={"User-Agent": "facebookexternalhit/1.1"})
    assert [row["counted"] for row in scan_rows(site)] == [0]
    assert "Chưa có nơi nào khác quét tem này." in site.client.get(path).get_data(as_text=True)


def test_other_places_are_shown_before_the_threshold(site: Site) -> None:
    site.page(site.code(12), address="198.51.100.23")
    status, html = site.page(site.code(12), address="192.0.2.50")
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).strftime("%d/%m/%Y")
    assert f"Tem được quét lần đầu ngày {today}; đến nay đã được quét ở 1 nơi khác." in html
    assert 'data-result="genuine"' in html


def test_copy_threshold_must_be_a_count() -> None:
    with pytest.raises(StampError, match="COPY_THRESHOLD"):
        create_app({"COPY_THRESHOLD": -1})


# --- JSON API and trust list -------------------------------------------------------------------------------

def test_api_answers_the_documented_shape_with_the_scan_history(site: Site) -> None:
    url = site.code(13)
    first = site.client.get("/api/v1/verify", query_string={"code": url}).get_json()
    second = site.client.post("/api/v1/verify", json={"code": url.lower()}, environ_base={"REMOTE_ADDR": "192.0.2.1"}).get_json()
    third = site.client.post("/api/v1/verify", data={"code": url}, environ_base={"REMOTE_ADDR": "198.51.100.1"}).get_json()
    assert first["format"] == "ocop-verification/1" and first["result"] == "genuine" and first["class"] == "genuine"
    assert first["batch"]["record"]["product"]["name"] == PRODUCT and first["stamp"]["serial"] == 13
    assert first["scans"] == {"first_scanned_at": None, "other_places": 0, "copy_threshold": 5}
    assert second["scans"]["other_places"] == 1 and third["scans"]["other_places"] == 2
    assert third["scans"]["first_scanned_at"].endswith("Z")


def test_api_for_codes_that_fail(site: Site) -> None:
    forged = site.client.get("/api/v1/verify", query_string={"code": site.demo.tampered_url}).get_json()
    assert forged["result"] == "forged" and forged["reasons"][0]["code"] == "signature_mismatch" and forged["scans"] is None
    junk = site.client.get("/api/v1/verify", query_string={"code": "<script>alert(1)</script>"})
    assert junk.status_code == 200 and junk.get_json()["result"] == "not_a_stamp"


@pytest.mark.parametrize("request_api", [
    lambda c: c.get("/api/v1/verify"),
    lambda c: c.get("/api/v1/verify", query_string={"code": "A" * 5000}),
    lambda c: c.post("/api/v1/verify", data="{not json", content_type="application/json"),
    lambda c: c.post("/api/v1/verify", json=["code"]),
    lambda c: c.post("/api/v1/verify", json={"code": 7}),
    lambda c: c.post("/api/v1/verify", data="[" * 1000 + "]" * 1000, content_type="application/json"),
    lambda c: c.post("/api/v1/verify", data="[" * 5000, content_type="application/json"),
])
def test_api_refuses_requests_without_a_code(site: Site, request_api: Callable[[FlaskClient], Any]) -> None:
    response = request_api(site.client)
    assert response.status_code == 400 and response.get_json()["error"] in ("missing_code", "bad_request")


def test_api_errors_are_json(site: Site) -> None:
    response = site.client.get("/api/v1/nothing")
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    wrong_method = site.client.delete("/api/v1/verify")
    assert wrong_method.status_code == 405 and set(wrong_method.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert wrong_method.get_json()["error"] == "bad_request" and "HTTP method" in wrong_method.get_json()["message"]
    assert "Scan the QR code" not in response.get_json()["message"]  # a program reads it, not a shopper


def test_api_post_without_a_code_in_its_body_reads_the_query(site: Site) -> None:
    answer = site.client.post("/api/v1/verify", query_string={"code": site.code(14)}, json={"lang": "vi"})
    assert answer.status_code == 200 and answer.get_json()["stamp"]["serial"] == 14


def test_trust_list_publishes_keys_as_jwk(site: Site) -> None:
    body = site.client.get("/api/v1/keys").get_json()
    assert body["format"] == "ocop-trust-list/1"
    (key,) = body["keys"]
    public = site.key.public_key()
    assert (key["kty"], key["crv"], key["alg"], key["status"]) == ("OKP", "Ed25519", "EdDSA", "active")
    assert base64.urlsafe_b64decode(key["x"] + "=") == public_key_bytes(public)
    assert key["kid"] == site.demo.batch.record["key_id"] and key["key_hint"] == key["kid"][:6]


def test_revocation_takes_effect_on_the_next_request_without_a_restart(site: Site) -> None:
    url = path_of(site.code(14))
    assert 'data-result="genuine"' in site.client.get(url).get_data(as_text=True)
    instance = site.open()
    instance.trust.set_status(site.demo.batch.record["key_id"], "revoked", "leaked")
    instance.close()
    assert 'data-result="revoked_key"' in site.client.get(url).get_data(as_text=True)
    assert site.client.get("/api/v1/keys").get_json()["keys"][0]["status"] == "revoked"


# --- hardening ---------------------------------------------------------------------------------------------

def test_security_headers_on_every_response(site: Site) -> None:
    for path in ("/", path_of(site.code(15)), "/V/BAD", "/nothing", "/api/v1/keys", "/api/v1/verify"):
        headers = site.client.get(path).headers
        policy = headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "unsafe-inline" not in policy and "script-src" not in policy
        assert "frame-ancestors 'none'" in policy and "style-src 'sha256-" in policy
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "no-referrer"


def test_cache_rules_follow_the_scan_log(site: Site) -> None:
    assert site.client.get(path_of(site.code(16))).headers["Cache-Control"] == "no-store"
    assert site.client.get(path_of(site.demo.tampered_url)).headers["Cache-Control"] == "no-store"
    assert site.client.get("/api/v1/verify", query_string={"code": site.code(16)}).headers["Cache-Control"] == "no-store"
    assert site.client.get("/V/BAD").headers["Cache-Control"].startswith("public")


def test_inline_style_matches_its_csp_hash(site: Site) -> None:
    response = site.client.get("/")
    html = response.get_data(as_text=True)
    style = html.split("<style>", 1)[1].split("</style>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in response.headers["Content-Security-Policy"]


def test_producer_supplied_text_is_escaped(demo_template: DemoRun, tmp_path: Path) -> None:
    demo = fresh_demo(demo_template, tmp_path)
    instance = Instance.open(demo.instance_root)
    key = instance.signing_key(DEMO_PASSPHRASE)
    evil = '<script>alert("x")</script>'
    producer_id = registry.add_producer(instance.store, {"name": f"HTX {evil}", "kind": "cooperative",
                                                         "province": "Điện Biên", "commune": f"xã <b>{evil}"})
    area_id = registry.add_farm_area(instance.store, producer_id, {"name": f"Vùng {evil}", "kind": "growing",
                                                                   "province": "Điện Biên"})
    product_id = registry.add_product(instance.store, producer_id, {"name": f"Mật ong {evil}", "category": "Mật ong"})
    fields = {**demo_data()["batch"]["fields"], "lot_code": "XSS-1",
              "origin_steps": [{"step": evil, "date": "2026-10-20", "place": f"'\"{evil}"}]}
    batch = registry.create_batch(instance.store, key, product_id, [area_id], fields)
    allocate_serials(instance.store, batch, 1)
    url = StampSigner(key, batch, BASE_URL).code(1).url
    instance.close()
    client = create_app({"INSTANCE": str(demo.instance_root)}).test_client()
    html = client.get(path_of(url)).get_data(as_text=True)
    assert "<script" not in html and "<b>" not in html
    assert "HTX &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&#39;&#34;&lt;script&gt;" in html


def test_uninitialised_instance_is_503_not_500(tmp_path: Path) -> None:
    client = create_app({"INSTANCE": str(tmp_path / "none"), "TESTING": True}).test_client()
    api = client.get("/api/v1/verify", query_string={"code": "x"})
    assert api.status_code == 503 and api.get_json()["error"] == "unavailable"
    page = client.get("/V/" + "A" * 130)
    assert page.status_code == 503 and "Trang xác thực tạm thời chưa sẵn sàng" in page.get_data(as_text=True)


def test_friendly_pages_for_unknown_paths_and_methods(site: Site) -> None:
    missing = site.client.get("/no/such/page")
    assert missing.status_code == 404 and "Không tìm thấy trang" in missing.get_data(as_text=True)
    assert "Page not found" in site.client.get("/nope", headers={"Accept-Language": "en"}).get_data(as_text=True)
    wrong = site.client.post(path_of(site.code(1)))
    assert wrong.status_code == 405 and "Yêu cầu không hợp lệ" in wrong.get_data(as_text=True)
    assert set(wrong.headers["Allow"].split(", ")) >= {"GET", "HEAD"} and wrong.mimetype == "text/html"
    too_big = site.client.post("/api/v1/verify", data={"code": "A" * 20_000})
    assert too_big.status_code == 413


def test_home_health_and_robots(site: Site) -> None:
    assert "Quét mã QR" in site.client.get("/").get_data(as_text=True)
    assert site.client.get("/healthz").data == b"ok\n"
    assert "Disallow: /V/" in site.client.get("/robots.txt").get_data(as_text=True)


def test_wsgi_module_reads_its_configuration_from_the_environment(demo_template: DemoRun, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    demo = fresh_demo(demo_template, tmp_path)
    monkeypatch.setenv("OCOP_STAMPS_HOME", str(demo.instance_root))
    monkeypatch.setenv("OCOP_COPY_THRESHOLD", "0")
    module = importlib.reload(importlib.import_module("verify_server.wsgi"))
    assert module.app.config["COPY_THRESHOLD"] == 0 and module.app.config["INSTANCE"] == str(demo.instance_root)
    monkeypatch.setenv("OCOP_COPY_THRESHOLD", "five")
    with pytest.raises(StampError, match="OCOP_COPY_THRESHOLD must be a whole number"):
        importlib.reload(module)


def test_scans_are_written_at_once_when_not_gathered(demo_template: DemoRun, tmp_path: Path) -> None:
    demo = fresh_demo(demo_template, tmp_path)
    app = create_app({"INSTANCE": str(demo.instance_root), "SCAN_FLUSH_SECONDS": 0})
    app.test_client().get(path_of(demo.genuine_url))
    assert len(table_rows(demo.instance_root, "scans")) == 1
    app.extensions["ocop_runtime"].close()


def test_gathered_scans_reach_other_workers_after_a_flush(demo_template: DemoRun, tmp_path: Path) -> None:
    demo = fresh_demo(demo_template, tmp_path)
    first, second = (create_app({"INSTANCE": str(demo.instance_root), "SCAN_FLUSH_SECONDS": 60}) for _ in range(2))
    path = path_of(demo.genuine_url)

    def page(app: Flask, address: str) -> str:
        return app.test_client().get(path, environ_base={"REMOTE_ADDR": address}).get_data(as_text=True)

    page(first, "198.51.100.1")
    assert "ở 1 nơi khác" in page(first, "192.0.2.1")  # its own, at once
    assert "Chưa có nơi nào khác" in page(second, "203.0.113.1")  # not flushed yet
    assert first.extensions["ocop_runtime"].scan_log.flush() == 2
    assert "ở 3 nơi khác" in page(second, "203.0.114.1")  # 2 written + 1 of its own
    for app in (first, second):
        app.extensions["ocop_runtime"].close()
    assert len(table_rows(demo.instance_root, "scans")) == 4
    assert [row["sources"] for row in table_rows(demo.instance_root, "scan_counts")] == [4]


@pytest.mark.parametrize("earlier_places, vi, en", [
    (0, "Chưa có nơi nào khác quét tem này.", "No other place has scanned this stamp."),
    (5, "đến nay đã được quét ở 5 nơi khác", "scanned from 5 other places so far"),
])
def test_switching_language_is_not_another_scan(site: Site, earlier_places: int, vi: str, en: str) -> None:
    for place in range(earlier_places):
        site.page(site.code(17), address=f"203.0.{place}.9")
    status, vietnamese = site.page(site.code(17))
    english = [site.client.get(path_of(site.code(17)) + "?lang=en").get_data(as_text=True) for _ in range(8)]
    assert 'data-result="genuine"' in vietnamese and vi in vietnamese
    assert all('data-result="genuine"' in page and en in page for page in english)
    assert len(scan_rows(site)) == earlier_places + 9  # every request is logged ...
    answer = site.client.get("/api/v1/verify", query_string={"code": site.code(17)}, environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert answer.get_json()["scans"]["other_places"] == earlier_places + 1  # ... and the shopper's place counts once


def test_copies_printed_with_a_query_are_counted_like_any_other(site: Site) -> None:
    for place in range(10):
        site.client.get(path_of(site.code(18)) + "?lang=vi", environ_base={"REMOTE_ADDR": f"203.0.{place}.9"})
    answer = site.client.get("/api/v1/verify", query_string={"code": site.code(18)}, environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert answer.get_json()["result"] == "genuine_warning" and answer.get_json()["scans"]["other_places"] == 10


# --- field fixes: cross-origin API, HSTS, key order, wording -----------------------------------------------

def test_cross_origin_json_post_is_allowed_by_the_preflight(site: Site) -> None:
    preflight = site.client.options("/api/v1/verify", headers={
        "Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code in (200, 204)
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Headers"].lower() == "content-type"
    assert int(preflight.headers["Access-Control-Max-Age"]) > 0
    missing = site.client.post("/api/v1/verify", json={}, headers={"Origin": "https://shop.example"})
    assert missing.status_code == 400 and missing.headers["Access-Control-Allow-Origin"] == "*"
    answer = site.client.post("/api/v1/verify", json={"code": site.code(18)}, headers={"Origin": "https://shop.example"})
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Origin" not in site.client.get(path_of(site.code(18))).headers  # pages are not an API


def test_hsts_only_over_https_directly_or_through_a_trusted_proxy(demo_template: DemoRun, tmp_path: Path) -> None:
    demo = fresh_demo(demo_template, tmp_path)
    plain = create_app({"INSTANCE": str(demo.instance_root)}).test_client()
    proxied = create_app({"INSTANCE": str(demo.instance_root), "TRUSTED_PROXIES": 1}).test_client()
    assert "Strict-Transport-Security" not in plain.get("/").headers
    assert "Strict-Transport-Security" not in plain.get("/", headers={"X-Forwarded-Proto": "https"}).headers  # not trusted
    assert plain.get("/", base_url="https://truyxuat.example.vn").headers["Strict-Transport-Security"] == "max-age=31536000"
    assert proxied.get("/", headers={"X-Forwarded-Proto": "https"}).headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in proxied.get("/", headers={"X-Forwarded-Proto": "http"}).headers


DOCUMENTED_ORDER = ["format", "result", "class", "reasons", "checked_on", "stamp", "key", "batch", "recall", "ocop"]


def test_json_answers_keep_the_documented_key_order(site: Site) -> None:
    raw = site.client.get("/api/v1/verify", query_string={"code": site.code(19)}).get_data(as_text=True)
    assert list(json.loads(raw)) == DOCUMENTED_ORDER + ["scans"]
    assert list(json.loads(raw)["scans"]) == ["first_scanned_at", "other_places", "copy_threshold"]
    keys_raw = site.client.get("/api/v1/keys").get_data(as_text=True)
    assert list(json.loads(keys_raw)) == ["format", "keys"] and list(json.loads(keys_raw)["keys"][0])[:3] == ["kty", "crv", "alg"]
    result = CliRunner().invoke(ocop_cli, ["--instance", str(site.demo.instance_root), "verify", "--json", site.code(19)],
                                env={"OCOP_STAMPS_HOME": None})
    assert list(json.loads(result.output)) == DOCUMENTED_ORDER


def test_the_api_body_is_the_verification_with_the_record_built_once_per_batch(site: Site) -> None:
    answers = [site.client.get("/api/v1/verify", query_string={"code": site.code(serial)}).get_json() for serial in (20, 1)]
    cache = site.app.extensions["ocop_batch_json"]
    assert list(cache) == [site.demo.batch.digest]
    instance = site.open()
    expected = instance.verifier().verify(site.code(1)).to_json()
    instance.close()
    assert answers[1] == {**expected, "checked_on": answers[1]["checked_on"], "scans": answers[1]["scans"]}


def test_the_page_shows_the_verifiers_own_host(site: Site) -> None:
    html = site.client.get(path_of(site.code(2)), base_url="https://truyxuat.example.vn").get_data(as_text=True)
    assert '<span class="host" title="Trang xác thực">truyxuat.example.vn</span>' in html
    other = site.client.get(path_of(site.code(2)), base_url="http://copy-site.example:8080").get_data(as_text=True)
    assert ">copy-site.example:8080</span>" in other  # the same cached page, this request's host
    odd = site.client.get(path_of(site.code(2)), headers={"Host": "<b>x</b>"}).get_data(as_text=True)
    assert "<b>x</b>" not in odd and "&lt;b&gt;" not in odd
    assert ">truyxuat.example.vn</span>" in site.client.get("/", base_url="https://truyxuat.example.vn").get_data(as_text=True)


def test_steps_show_their_location_code(site: Site) -> None:
    status, vietnamese = site.page(site.code(2))
    status, english = site.page(site.code(2), "en")
    assert "Vùng chè San tuyết hữu cơ Xuân Lao (mã địa điểm VN-DB-XL-0001-24)" in vietnamese
    assert "Vùng chè San tuyết hữu cơ Xuân Lao (location code VN-DB-XL-0001-24)" in english


def test_decimals_are_written_as_each_language_writes_them() -> None:
    area = {"name": "Vùng chè", "kind": "growing", "province": "Điện Biên", "area_ha": "12.5"}
    assert "12,5 ha" in present.farm_area_text(area, "vi") and "12.5 ha" in present.farm_area_text(area, "en")


def test_expiry_is_named_the_same_in_the_label_and_the_warning() -> None:
    label = present.LABELS["expiry_date"][1].lower()
    assert label == "expiry date" and label.split()[0] in verify.REASONS["product_expired"][0]
