"""The ocop-stamps command line, driven through click's CliRunner and, for the entry points, real processes.

Every test works on its own copy of one instance built once through the CLI
(records, a signing key, two signed batches, five issued codes), so tests can
recall, revoke and issue without disturbing each other.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import datetime as dt
import importlib.metadata
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

import cli as cli_module
from cli import PASSPHRASE_ENV
from cli import cli as ocop_cli
from stamps.code import BASE32_ALPHABET, TOKEN_CHARS
from stamps.demo import DEMO_STAMPS
from stamps.instance import Instance
from verify_server.background import stop_verifier, wait_until_ready

# ---------------------------------------------------------------------------------------------------
# shared helpers and fixtures
# ---------------------------------------------------------------------------------------------------
ROOT = Path(__file__).resolve().parents[1]
PASSPHRASE = "mật khẩu thử nghiệm"
BASE_URL = "https://truyxuat.example.vn"
STAMP_PREFIX = "https://TRUYXUAT.EXAMPLE.VN/V/"

TODAY = dt.date.today()
OCOP_ISSUED = TODAY - dt.timedelta(days=100)
OCOP_EXPIRES = TODAY + dt.timedelta(days=200)
HARVEST = TODAY - dt.timedelta(days=20)
PRODUCED = TODAY - dt.timedelta(days=10)
L1_EXPIRY = TODAY + dt.timedelta(days=365)   # after the OCOP certificate expires
L2_EXPIRY = TODAY + dt.timedelta(days=100)   # before the OCOP certificate expires
L1_QUANTITY = 10
L2_QUANTITY = 5
ISSUED = 5
EXIT = {"genuine": 0, "genuine_warning": 3, "unknown_batch": 3,
        "recalled": 4, "revoked_key": 4, "unknown_issuer": 4, "forged": 4, "not_a_stamp": 4}


def invoke(instance: Path, *args: object, passphrase: str | None = PASSPHRASE) -> Result:
    """Run the CLI in-process on *instance*; *passphrase* None leaves $OCOP_STAMPS_PASSPHRASE unset."""
    env = {PASSPHRASE_ENV: passphrase, "OCOP_STAMPS_HOME": None}
    return CliRunner().invoke(ocop_cli, ["--instance", str(instance), *map(str, args)], env=env, prog_name="ocop-stamps")


def describe(result: Result) -> str:
    return f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}\nexception: {result.exception!r}"


def ok(result: Result) -> str:
    assert result.exit_code == 0, describe(result)
    return result.stdout


def assert_error(result: Result, exit_code: int = 1, contains: str = "") -> str:
    """A clean failure: the exit code, no traceback, and one line starting with 'Error:'."""
    assert result.exit_code == exit_code, describe(result)
    assert isinstance(result.exception, SystemExit), f"unhandled exception: {result.exception!r}"
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error:")]
    assert len(errors) == 1, describe(result)
    if exit_code == 1:
        assert lines == errors, describe(result)
        assert result.stdout == "", describe(result)
    else:
        assert lines[-1] == errors[0], describe(result)
    assert contains in errors[0], describe(result)
    return errors[0]


def verify_json(instance: Path, code: str, *extra: object) -> tuple[int, dict]:
    result = invoke(instance, "verify", code, "--json", *extra)
    assert result.exception is None or isinstance(result.exception, SystemExit), describe(result)
    return result.exit_code, json.loads(result.stdout)


def reason_codes(payload: dict) -> list[str]:
    return [reason["code"] for reason in payload["reasons"]]


def read_codes(folder: Path) -> list[list[str]]:
    with open(folder / "codes.csv", newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def change_char(url: str, token_index: int) -> str:
    """*url* with one base32 character of its token replaced by another."""
    position = len(url) - TOKEN_CHARS + token_index
    replacement = next(char for char in BASE32_ALPHABET if char != url[position])
    return url[:position] + replacement + url[position + 1:]


def batch_issued(instance: Path, lot: str) -> str:
    """The 'issued N/Q' column of 'batch list' for one lot."""
    for line in ok(invoke(instance, "batch", "list")).splitlines():
        if f"  {lot}  " in line:
            return re.search(r"issued (\S+)", line).group(1)
    raise AssertionError(f"lot {lot} not in batch list")


def init_instance(instance: Path) -> None:
    ok(invoke(instance, "init", "--base-url", BASE_URL))


@dataclasses.dataclass(frozen=True)
class World:
    """An instance with records, key KEY_ID, batches L1 (5 of 10 issued) and L2 (none of 5 issued)."""

    root: Path
    key_id: str
    l1: str
    l2: str

    @property
    def inst(self) -> Path:
        return self.root / "inst"

    @property
    def issued_dir(self) -> Path:
        return self.root / "issued-L1"

    @property
    def codes(self) -> list[str]:
        return [row[1] for row in read_codes(self.issued_dir)[1:]]

    def moved(self, root: Path) -> World:
        return dataclasses.replace(self, root=root)


def build_world(root: Path) -> World:
    inst = root / "inst"
    init_instance(inst)
    key_id = re.search(r"Key ([0-9a-f]{16}) generated", ok(invoke(inst, "keys", "generate", "--label", "HTX Hợp Tiến"))).group(1)
    ok(invoke(inst, "producer", "add", "--name", "HTX Hợp Tiến", "--kind", "cooperative", "--province", "Quảng Ninh",
              "--commune", "xã Bình Liêu", "--phone", "0203 3878 000"))
    ok(invoke(inst, "farm", "add", "--producer", 1, "--name", "Vùng nuôi ong rừng Bình Liêu", "--kind", "raising",
              "--code", "vn-qn-bl-0007-25", "--province", "Quảng Ninh", "--certifications", "VietGAP"))
    ok(invoke(inst, "product", "add", "--producer", 1, "--name", "Mật ong rừng Bình Liêu", "--category", "Thực phẩm - Mật ong",
              "--ocop-stars", 4, "--ocop-certificate-no", "QN-2024-0331", "--ocop-issued", OCOP_ISSUED,
              "--ocop-expires", OCOP_EXPIRES))
    digests = []
    for lot, quantity, expiry in (("L1", L1_QUANTITY, L1_EXPIRY), ("L2", L2_QUANTITY, L2_EXPIRY)):
        out = ok(invoke(inst, "batch", "create", "--product", 1, "--farm-area", 1, "--lot-code", lot, "--quantity", quantity,
                        "--harvest-date", HARVEST, "--production-date", PRODUCED, "--expiry-date", expiry,
                        "--step", f"Thu hoạch|{HARVEST}|Vùng nuôi ong rừng Bình Liêu",
                        "--step", f"Đóng gói|{PRODUCED}|Xưởng HTX Hợp Tiến|VN-QN-BL-0007-25"))
        digests.append(re.search(r"Batch ([0-9a-f]{16}) signed", out).group(1))
    ok(invoke(inst, "issue", "L1", "--count", ISSUED, "--out", root / "issued-L1", *ALL_IMAGES))
    return World(root, key_id, *digests)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("template"))


@pytest.fixture
def world(template: World, tmp_path: Path) -> World:
    """A private copy of the template instance (modes kept, so the 0600 key file still loads)."""
    shutil.copytree(template.root, tmp_path / "world")
    return template.moved(tmp_path / "world")


@pytest.fixture
def verifier(world: World) -> Path:
    """A second instance that has never heard of the world's key or batches."""
    inst = world.root / "verifier"
    init_instance(inst)
    return inst


@pytest.fixture
def inspector(world: World, verifier: Path) -> Path:
    """A second instance that trusts the world's public key but holds none of its batches."""
    pem = world.root / "public.pem"
    ok(invoke(world.inst, "keys", "export", "--out", pem))
    assert "Key " + world.key_id in ok(invoke(verifier, "keys", "import", pem, "--label", "HTX Hợp Tiến (imported)"))
    return verifier


# ---------------------------------------------------------------------------------------------------
# the full flow
# ---------------------------------------------------------------------------------------------------
ALL_IMAGES = ("--format", "pdf", "--format", "svg", "--format", "png")


def assert_issued_output(folder: Path, serials: range, formats: tuple[str, ...] = ("pdf",)) -> list[str]:
    rows = read_codes(folder)
    assert rows[0] == ["serial", "code", "short_code"]
    assert [int(row[0]) for row in rows[1:]] == list(serials)
    codes = [row[1] for row in rows[1:]]
    assert all(code.startswith(STAMP_PREFIX) and len(token_of(code)) == TOKEN_CHARS for code in codes)
    assert len(set(codes)) == len(codes)
    assert (folder / "stamps.pdf").exists() is ("pdf" in formats)
    if "pdf" in formats:
        assert (folder / "stamps.pdf").read_bytes().startswith(b"%PDF-")
    for serial in serials:
        svg, png = folder / "svg" / f"{serial:07d}.svg", folder / "png" / f"{serial:07d}.png"
        assert svg.exists() is ("svg" in formats) and png.exists() is ("png" in formats)
        if "svg" in formats:
            assert "<svg" in svg.read_text(encoding="utf-8")
        if "png" in formats:
            assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    return codes


def test_full_flow_from_options(tmp_path: Path) -> None:
    inst = tmp_path / "inst"
    assert "stamps will point to https://truyxuat.example.vn" in ok(invoke(inst, "init", "--base-url", "HTTPS://TruyXuat.Example.VN/"))
    key_out = ok(invoke(inst, "keys", "generate", "--label", "HTX Hợp Tiến"))
    key_id = re.search(r"Key ([0-9a-f]{16}) generated", key_out).group(1)
    key_file = inst / "private-keys" / f"{key_id}.key.pem"
    assert b"ENCRYPTED" in key_file.read_bytes()
    if os.name == "posix":
        assert key_file.stat().st_mode & 0o777 == 0o600
    assert ok(invoke(inst, "producer", "add", "--name", "HTX Hợp Tiến", "--kind", "cooperative",
                     "--province", "Quảng Ninh", "--commune", "xã Bình Liêu")).strip() == "Producer 1 added."
    assert ok(invoke(inst, "farm", "add", "--producer", "1", "--name", "Vùng ong", "--province", "Quảng Ninh",
                     "--code", "VN-QN-BL-0007-25", "--latitude", "21.53", "--longitude", "107.40")).strip() == "Farm area 1 added."
    assert ok(invoke(inst, "product", "add", "--producer", "1", "--name", "Mật ong rừng", "--category", "Thực phẩm",
                     "--ocop-stars", "3", "--ocop-certificate-no", "QN-1", "--ocop-issued", OCOP_ISSUED)).strip() == "Product 1 added."
    created = ok(invoke(inst, "batch", "create", "--product", "1", "--farm-area", "1", "--lot-code", "MO-01", "--quantity", "50",
                        "--production-date", PRODUCED.strftime("%d/%m/%Y"), "--expiry-date", L1_EXPIRY,
                        "--step", f"Thu hoạch|{HARVEST}|Rừng Bình Liêu"))
    assert "lot MO-01, 50 units" in created
    digest = re.search(r"Batch ([0-9a-f]{16}) signed", created).group(1)

    shown = json.loads(ok(invoke(inst, "batch", "show", digest)))
    assert shown["record"]["batch"]["production_date"] == PRODUCED.isoformat()
    assert shown["record"]["batch"]["origin_steps"] == [{"step": "Thu hoạch", "date": HARVEST.isoformat(), "place": "Rừng Bình Liêu"}]
    assert shown["record"]["key_id"] == key_id and shown["issued"] == 0

    issued = ok(invoke(inst, "issue", "MO-01", "--count", "5", "--out", tmp_path / "stamps"))
    assert "5 stamps (serials 1-5, pdf:a4-24)" in issued
    codes = assert_issued_output(tmp_path / "stamps", range(1, 6))
    assert batch_issued(inst, "MO-01") == "5/50"

    result = invoke(inst, "verify", codes[2])
    assert result.exit_code == 0, describe(result)
    assert "Tem chính hãng" in result.stdout
    assert "Mật ong rừng" in result.stdout and "Số sê-ri / Serial: 3" in result.stdout


def write_json(path: Path, value: object) -> Path:
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    return path


def test_full_flow_from_json(tmp_path: Path) -> None:
    inst = tmp_path / "inst"
    init_instance(inst)
    ok(invoke(inst, "keys", "generate"))
    ok(invoke(inst, "producer", "add", "--from-json", write_json(tmp_path / "producer.json", {
        "name": "Công ty TNHH trà Phan Nhất", "kind": "enterprise", "province": "Điện Biên", "commune": "xã Xuân Lao",
        "tax_code": "5600123456"})))
    ok(invoke(inst, "farm", "add", "--from-json", write_json(tmp_path / "farm.json", {
        "producer_id": 1, "name": "Vùng chè Xuân Lao", "province": "Điện Biên", "code": "VN-DB-XL-0001-24",
        "certifications": ["VietGAP", "Hữu cơ"], "area_ha": "13.5"})))
    ok(invoke(inst, "product", "add", "--from-json", write_json(tmp_path / "product.json", {
        "producer_id": 1, "name": "Trà San tuyết", "category": "Đồ uống - Chè", "gtin": "8930000000019",
        "standards": ["TCVN 7975:2008"], "ocop_stars": 4, "ocop_certificate_no": "DB-2024-0114", "ocop_issued": OCOP_ISSUED.isoformat()})))
    ok(invoke(inst, "batch", "create", "--from-json", write_json(tmp_path / "batch.json", {
        "product_id": 1, "farm_area_ids": [1], "lot_code": "PH14-01", "quantity": 20, "harvest_date": HARVEST.isoformat(),
        "production_date": PRODUCED.isoformat(), "expiry_date": L1_EXPIRY.isoformat(),
        "origin_steps": [{"step": "Thu hái", "date": HARVEST.isoformat(), "place": "Vùng chè Xuân Lao"},
                         {"step": "Đóng gói", "date": PRODUCED.isoformat(), "place": "Xưởng Phan Nhất"}]})))

    assert json.loads(ok(invoke(inst, "producer", "show", 1)))["tax_code"] == "5600123456"
    assert json.loads(ok(invoke(inst, "farm", "show", 1)))["certifications"] == ["VietGAP", "Hữu cơ"]
    record = json.loads(ok(invoke(inst, "batch", "show", "PH14-01")))["record"]
    assert record["product"]["gtin"] == "8930000000019"
    assert [area["code"] for area in record["farm_areas"]] == ["VN-DB-XL-0001-24"]
    assert [step["step"] for step in record["batch"]["origin_steps"]] == ["Thu hái", "Đóng gói"]

    ok(invoke(inst, "issue", "PH14-01", "--count", 5, "--out", tmp_path / "stamps"))
    codes = assert_issued_output(tmp_path / "stamps", range(1, 6))
    result = invoke(inst, "verify", codes[0])
    assert result.exit_code == 0 and "Tem chính hãng" in result.stdout, describe(result)


def test_options_override_json_fields(tmp_path: Path) -> None:
    inst = tmp_path / "inst"
    init_instance(inst)
    source = write_json(tmp_path / "p.json", {"name": "Tên cũ", "kind": "household", "province": "Lào Cai", "commune": "xã A"})
    ok(invoke(inst, "producer", "add", "--from-json", source, "--name", "Tên mới"))
    shown = json.loads(ok(invoke(inst, "producer", "show", 1)))
    assert (shown["name"], shown["province"]) == ("Tên mới", "Lào Cai")


def test_lists_show_the_records(world: World) -> None:
    assert "HTX Hợp Tiến" in ok(invoke(world.inst, "producer", "list"))
    assert "VN-QN-BL-0007-25" in ok(invoke(world.inst, "farm", "list"))
    assert "Mật ong rừng Bình Liêu" in ok(invoke(world.inst, "product", "list"))
    listed = ok(invoke(world.inst, "keys", "list"))
    assert world.key_id in listed and "active" in listed and "(signing key)" in listed
    assert batch_issued(world.inst, "L1") == f"{ISSUED}/{L1_QUANTITY}"
    assert batch_issued(world.inst, "L2") == f"0/{L2_QUANTITY}"


# ---------------------------------------------------------------------------------------------------
# every verification result, with its exit code
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("as_json", [True, False], ids=["json", "text"])
def test_genuine(world: World, as_json: bool) -> None:
    result = invoke(world.inst, "verify", world.codes[0], *(["--json"] if as_json else []))
    assert result.exit_code == 0, describe(result)
    if as_json:
        payload = json.loads(result.stdout)
        assert (payload["result"], payload["class"], payload["reasons"]) == ("genuine", "genuine", [])
        assert payload["stamp"]["serial"] == 1 and payload["stamp"]["signature_verified"] is True
        assert payload["key"]["key_id"] == world.key_id
        assert payload["batch"]["digest"].startswith(world.l1)
    else:
        assert result.stdout.startswith("GENUINE: Tem chính hãng")


@pytest.mark.parametrize("transform", [
    lambda url: url,
    str.lower,
    lambda url: url.replace("https://", "HTTPS://"),
    token_of,
    lambda url: token_of(url).lower(),
    lambda url: f"  {url}\n",
], ids=["as-printed", "lower-case", "upper-scheme", "bare-token", "bare-token-lower", "whitespace"])
def test_genuine_in_any_letter_case(world: World, transform) -> None:
    code, payload = verify_json(world.inst, transform(world.codes[1]))
    assert (code, payload["result"], payload["stamp"]["serial"]) == (0, "genuine", 2)


@pytest.mark.parametrize("lot, today", [("L1", OCOP_EXPIRES), ("L2", L2_EXPIRY)], ids=["ocop-expiry-day", "batch-expiry-day"])
def test_genuine_on_the_expiry_day(world: World, lot: str, today: dt.date) -> None:
    ok(invoke(world.inst, "issue", lot, "--count", 1, "--out", world.root / "one"))
    code, payload = verify_json(world.inst, read_codes(world.root / "one")[1][1], "--today", today)
    assert (code, payload["result"]) == (0, "genuine")


@pytest.mark.parametrize("lot, today, reasons", [
    ("L2", L2_EXPIRY + dt.timedelta(days=1), ["product_expired"]),
    ("L1", OCOP_EXPIRES + dt.timedelta(days=1), ["ocop_expired"]),
    ("L1", L1_EXPIRY + dt.timedelta(days=1), ["product_expired", "ocop_expired"]),
], ids=["product-expired", "ocop-expired", "both"])
def test_genuine_warning(world: World, lot: str, today: dt.date, reasons: list[str]) -> None:
    ok(invoke(world.inst, "issue", lot, "--count", 1, "--out", world.root / "one"))
    stamp = read_codes(world.root / "one")[1][1]
    code, payload = verify_json(world.inst, stamp, "--today", today)
    assert (code, payload["result"], payload["class"]) == (3, "genuine_warning", "warning")
    assert reason_codes(payload) == reasons
    assert payload["checked_on"] == today.isoformat()
    text = invoke(world.inst, "verify", stamp, "--today", today.strftime("%d/%m/%Y"))
    assert text.exit_code == 3 and "Tem chính hãng, có cảnh báo" in text.stdout, describe(text)


def test_recalled(world: World) -> None:
    ok(invoke(world.inst, "recall", "L1", "--reason", "Phát hiện nấm men vượt ngưỡng", "--mandatory"))
    code, payload = verify_json(world.inst, world.codes[3])
    assert (code, payload["result"], reason_codes(payload)) == (4, "recalled", ["batch_recalled"])
    assert payload["recall"]["reason"] == "Phát hiện nấm men vượt ngưỡng"
    assert payload["recall"]["kind"] == "mandatory"
    assert "RECALLED" in ok(invoke(world.inst, "batch", "list"))
    text = invoke(world.inst, "verify", world.codes[3])
    assert text.exit_code == 4 and "Lô hàng đã bị thu hồi" in text.stdout


def test_recall_twice_is_an_error(world: World) -> None:
    ok(invoke(world.inst, "recall", "L1", "--reason", "lỗi bao bì"))
    assert_error(invoke(world.inst, "recall", "L1", "--reason", "again"), contains="already recalled")


def test_revoked_key(world: World) -> None:
    ok(invoke(world.inst, "revoke", world.key_id, "--reason", "máy tính bị mất"))
    code, payload = verify_json(world.inst, world.codes[0])
    assert (code, payload["result"], reason_codes(payload)) == (4, "revoked_key", ["key_revoked"])
    assert payload["key"]["status"] == "revoked" and payload["batch"] is None
    assert "revoked" in ok(invoke(world.inst, "keys", "list"))


def test_retired_key_still_verifies(world: World) -> None:
    ok(invoke(world.inst, "keys", "retire", world.key_id))
    code, payload = verify_json(world.inst, world.codes[0])
    assert (code, payload["result"], payload["key"]["status"]) == (0, "genuine", "retired")


def test_unknown_issuer(world: World, verifier: Path) -> None:
    code, payload = verify_json(verifier, world.codes[0])
    assert (code, payload["result"], reason_codes(payload)) == (4, "unknown_issuer", ["key_unknown"])
    assert payload["key"] is None and payload["batch"] is None


@pytest.mark.parametrize("token_index", [25, 40, 80, 120], ids=["serial", "sig-start", "sig-middle", "sig-end"])
def test_forged(world: World, token_index: int) -> None:
    code, payload = verify_json(world.inst, change_char(world.codes[0], token_index))
    assert (code, payload["result"], reason_codes(payload)) == (4, "forged", ["signature_mismatch"])
    assert payload["batch"] is None and payload["stamp"]["signature_verified"] is False
    text = invoke(world.inst, "verify", change_char(world.codes[0], token_index))
    assert text.exit_code == 4 and "Tem giả" in text.stdout


def test_forged_serial_beyond_quantity(world: World) -> None:
    """A code correctly signed for a serial the batch never had (signed here with the producer's own key)."""
    from stamps import registry
    from stamps.instance import Instance
    from stamps.issuance import StampSigner

    instance = Instance.open(world.inst)
    try:
        item = registry.find_batch(instance.store, "L1")
        signer = StampSigner(instance.private_key(world.key_id, PASSPHRASE.encode()), item, instance.base_url)
        url = signer.code(L1_QUANTITY + 1).url
    finally:
        instance.close()
    code, payload = verify_json(world.inst, url)
    assert (code, payload["result"], reason_codes(payload)) == (4, "forged", ["serial_out_of_range"])


def _with_bytes_changed(url: str, index: int, value: int) -> str:
    token = token_of(url)
    data = bytearray(base64.b32decode(token + "=" * (-len(token) % 8)))
    data[index] = value
    return url[: len(url) - len(token)] + base64.b32encode(bytes(data)).decode().rstrip("=")


NOT_A_STAMP = {
    "garbage": (lambda url: "xin chào, đây không phải tem", "wrong_length"),
    "empty": (lambda url: "", "wrong_length"),
    "ftp-scheme": (lambda url: "ftp://" + url.split("://", 1)[1], "wrong_prefix"),
    "wrong-path": (lambda url: url.replace("/V/", "/X/"), "wrong_path"),
    "no-path": (lambda url: "https://TRUYXUAT.EXAMPLE.VN/" + token_of(url), "wrong_path"),
    "too-short": (lambda url: url[:-1], "wrong_length"),
    "too-long": (lambda url: url + "A", "wrong_length"),
    "not-base32": (lambda url: url[:-10] + "1" + url[-9:], "bad_base32"),
    "version-2": (lambda url: _with_bytes_changed(url, 0, 2), "unknown_version"),
    "serial-0": (lambda url: _with_bytes_changed(_with_bytes_changed(_with_bytes_changed(url, 14, 0), 15, 0), 16, 0), "bad_serial"),
}


@pytest.mark.parametrize("name", NOT_A_STAMP)
def test_not_a_stamp(world: World, name: str) -> None:
    make, reason = NOT_A_STAMP[name]
    code, payload = verify_json(world.inst, make(world.codes[0]))
    assert (code, payload["result"], payload["class"], reason_codes(payload)) == (4, "not_a_stamp", "invalid", [reason])
    assert payload["stamp"] is None


def test_unknown_batch_then_imported(world: World, inspector: Path) -> None:
    code, payload = verify_json(inspector, world.codes[0])
    assert (code, payload["result"], payload["class"], reason_codes(payload)) == (3, "unknown_batch", "warning", ["batch_unknown"])
    assert payload["stamp"]["signature_verified"] is True and payload["batch"] is None

    exported = world.root / "L1.json"
    ok(invoke(world.inst, "batch", "export", "L1", "--out", exported))
    assert "imported: lot L1" in ok(invoke(inspector, "batch", "import", exported))
    code, payload = verify_json(inspector, world.codes[0])
    assert (code, payload["result"]) == (0, "genuine")
    assert payload["batch"]["digest"].startswith(world.l1)
    assert payload["key"]["label"] == "HTX Hợp Tiến (imported)"
    assert "(imported)" in ok(invoke(inspector, "batch", "list"))


def test_batch_export_to_stdout_imports_too(world: World, inspector: Path) -> None:
    exported = world.root / "L2.json"
    exported.write_text(ok(invoke(world.inst, "batch", "export", world.l2)), encoding="utf-8")
    ok(invoke(inspector, "batch", "import", exported))
    assert json.loads(ok(invoke(inspector, "batch", "show", "L2")))["origin"] == "imported"


def test_imported_batch_cannot_be_issued(world: World, inspector: Path) -> None:
    exported = world.root / "L1.json"
    ok(invoke(world.inst, "batch", "export", "L1", "--out", exported))
    ok(invoke(inspector, "batch", "import", exported))
    assert_error(invoke(inspector, "issue", "L1", "--count", 1, "--out", world.root / "x"), contains="only its producer")
    assert not (world.root / "x").exists()


def test_batch_import_rejects_a_tampered_export(world: World, inspector: Path) -> None:
    document = json.loads(ok(invoke(world.inst, "batch", "export", "L1")))
    document["record"] = document["record"].replace('"quantity":10', '"quantity":99')
    assert '"quantity":99' in document["record"]
    assert_error(invoke(inspector, "batch", "import", write_json(world.root / "bad.json", document)))
    assert "L1" not in ok(invoke(inspector, "batch", "list"))


def test_batch_import_needs_the_key(world: World, verifier: Path) -> None:
    exported = world.root / "L1.json"
    ok(invoke(world.inst, "batch", "export", "L1", "--out", exported))
    assert_error(invoke(verifier, "batch", "import", exported), contains=world.key_id)


# ---------------------------------------------------------------------------------------------------
# issuing
# ---------------------------------------------------------------------------------------------------
def test_issue_uses_a_new_default_folder_each_time(world: World) -> None:
    ok(invoke(world.inst, "issue", "L1", "--count", 2))
    ok(invoke(world.inst, "issue", "L1", "--count", 3))
    folders = sorted((world.inst / "output").iterdir())
    assert [folder.name for folder in folders] == [f"L1-{world.l1[:8]}-0000006-0000007", f"L1-{world.l1[:8]}-0000008-0000010"]
    assert_issued_output(folders[0], range(6, 8))
    assert_issued_output(folders[1], range(8, 11))
    assert batch_issued(world.inst, "L1") == "10/10"


@pytest.mark.parametrize("lot, quantity, count, left", [("L1", L1_QUANTITY, L1_QUANTITY - ISSUED + 1, L1_QUANTITY - ISSUED),
                                                        ("L2", L2_QUANTITY, L2_QUANTITY + 1, L2_QUANTITY)])
def test_issue_never_beyond_quantity(world: World, lot: str, quantity: int, count: int, left: int) -> None:
    before = batch_issued(world.inst, lot)
    out = world.root / "too-many"
    assert_error(invoke(world.inst, "issue", lot, "--count", count, "--out", out), contains=f"Only {left}")
    assert not out.exists()
    assert not (world.inst / "output").exists()
    assert [p.name for p in world.root.iterdir() if p.name.startswith(".")] == []
    assert batch_issued(world.inst, lot) == before
    ok(invoke(world.inst, "issue", lot, "--count", left, "--out", out))
    assert_error(invoke(world.inst, "issue", lot, "--count", 1, "--out", world.root / "more"), contains="Only 0")
    assert batch_issued(world.inst, lot) == f"{quantity}/{quantity}"


@pytest.mark.parametrize("count", [0, -1, 10_000_001])
def test_issue_bad_count(world: World, count: int) -> None:
    assert_error(invoke(world.inst, "issue", "L2", "--count", count, "--out", world.root / "x"))
    assert not (world.root / "x").exists()
    assert batch_issued(world.inst, "L2") == "0/5"


def test_issue_refuses_an_existing_out_folder(world: World) -> None:
    assert_error(invoke(world.inst, "issue", "L2", "--count", 1, "--out", world.issued_dir), contains="already exists")
    assert batch_issued(world.inst, "L2") == "0/5"


def test_reprint_rewrites_the_same_codes(world: World) -> None:
    ok(invoke(world.inst, "issue", "L1", "--reprint", "1-3", "--out", world.root / "reprint", *ALL_IMAGES))
    assert_issued_output(world.root / "reprint", range(1, 4), ("pdf", "svg", "png"))
    assert read_codes(world.root / "reprint") == read_codes(world.issued_dir)[:4]
    for serial in (1, 2, 3):
        name = f"{serial:07d}.svg"
        assert (world.root / "reprint" / "svg" / name).read_bytes() == (world.issued_dir / "svg" / name).read_bytes()
    assert batch_issued(world.inst, "L1") == f"{ISSUED}/{L1_QUANTITY}"


@pytest.mark.parametrize("reprint", ["4-6", "6-6", "1-10", "3-1", "0-2", "x", "1-", "2"])
def test_reprint_refuses_serials_not_issued(world: World, reprint: str) -> None:
    out = world.root / "reprint"
    assert_error(invoke(world.inst, "issue", "L1", "--reprint", reprint, "--out", out))
    assert not out.exists()
    assert batch_issued(world.inst, "L1") == f"{ISSUED}/{L1_QUANTITY}"


def test_reprint_of_a_batch_never_issued(world: World) -> None:
    assert_error(invoke(world.inst, "issue", "L2", "--reprint", "1-1", "--out", world.root / "r"))


@pytest.mark.parametrize("args", [[], ["--count", 1, "--reprint", "1-1"]], ids=["neither", "both"])
def test_issue_needs_count_or_reprint(world: World, args: list) -> None:
    assert_error(invoke(world.inst, "issue", "L2", *args), contains="--count")


@pytest.mark.parametrize("passphrase, message", [("sai mật khẩu", "Wrong passphrase"), (None, "No passphrase")],
                         ids=["wrong", "missing"])
def test_issue_with_a_bad_passphrase_allocates_nothing(world: World, passphrase: str | None, message: str) -> None:
    out = world.root / "x"
    assert_error(invoke(world.inst, "issue", "L2", "--count", 2, "--out", out, passphrase=passphrase), contains=message)
    assert not out.exists()
    assert batch_issued(world.inst, "L2") == "0/5"
    ok(invoke(world.inst, "issue", "L2", "--count", 2, "--out", out))
    assert_issued_output(out, range(1, 3))


def test_batch_create_with_a_wrong_passphrase_stores_nothing(world: World) -> None:
    result = invoke(world.inst, "batch", "create", "--product", 1, "--lot-code", "L3", "--quantity", 5,
                    "--production-date", PRODUCED, "--expiry-date", L1_EXPIRY, passphrase="wrong")
    assert_error(result, contains="Wrong passphrase")
    assert "L3" not in ok(invoke(world.inst, "batch", "list"))


@pytest.mark.parametrize("action", [["recall", "L2", "--reason", "hỏng"], ["revoke", "KEY"]], ids=["recalled", "revoked"])
def test_no_issue_after_recall_or_revoke(world: World, action: list[str]) -> None:
    ok(invoke(world.inst, *[world.key_id if part == "KEY" else part for part in action]))
    assert_error(invoke(world.inst, "issue", "L2", "--count", 1, "--out", world.root / "x"))
    assert not (world.root / "x").exists()
    assert batch_issued(world.inst, "L2") == "0/5"


def test_a_new_key_retires_the_old_one_and_old_batches_still_issue(world: World) -> None:
    new_id = re.search(r"Key ([0-9a-f]{16})", ok(invoke(world.inst, "keys", "generate", "--label", "2nd"))).group(1)
    listed = ok(invoke(world.inst, "keys", "list"))
    assert re.search(rf"{world.key_id}\s+retired", listed) and re.search(rf"{new_id}\s+active.*\(signing key\)", listed)
    ok(invoke(world.inst, "issue", "L2", "--count", 1, "--out", world.root / "x"))
    code, payload = verify_json(world.inst, read_codes(world.root / "x")[1][1])
    assert (code, payload["result"], payload["key"]["key_id"]) == (0, "genuine", world.key_id)


# ---------------------------------------------------------------------------------------------------
# bad input: one line, 'Error:', exit 1 or 2, never a traceback
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [
    ["keys", "generate"], ["keys", "list"], ["producer", "list"], ["producer", "add", "--name", "x"], ["batch", "list"],
    ["issue", "L1", "--count", "1"], ["verify", "ABC"], ["revoke", "0123456789abcdef"],
], ids=lambda args: " ".join(args[:2]))
def test_commands_before_init(tmp_path: Path, args: list[str]) -> None:
    assert_error(invoke(tmp_path / "inst", *args), contains="not an initialised instance")
    assert not (tmp_path / "inst" / "ocop-stamps.db").exists()


@pytest.mark.parametrize("url", [
    "ftp://x", "https://host/with_underscore", "truyxuat.example.vn", "https://", "https://user@host.vn",
    "https://host.vn/?a=1", "https://host.vn/#x", "https://host vn", "https://host.vn/đường", "https://[::1",
    "https://host.vn:99999", "https://host.vn:port",
])
def test_bad_base_url(tmp_path: Path, url: str) -> None:
    assert_error(invoke(tmp_path / "inst", "init", "--base-url", url), contains="Base URL")
    assert not (tmp_path / "inst").exists()


def test_init_again_changes_the_base_url(world: World) -> None:
    ok(invoke(world.inst, "init", "--base-url", "http://192.168.1.20:8000"))
    ok(invoke(world.inst, "issue", "L2", "--count", 1, "--out", world.root / "x"))
    assert read_codes(world.root / "x")[1][1].startswith("http://192.168.1.20:8000/V/")


def test_keys_generate_refuses_an_empty_passphrase(tmp_path: Path) -> None:
    init_instance(tmp_path / "inst")
    assert_error(invoke(tmp_path / "inst", "keys", "generate", passphrase=""), contains="passphrase")


def test_batch_create_before_a_key_exists(tmp_path: Path) -> None:
    init_instance(tmp_path / "inst")
    assert_error(invoke(tmp_path / "inst", "batch", "create", "--product", 1), contains="no signing key")


USAGE_ERRORS = {
    "init without --base-url": ["init"],
    "recall without --reason": ["recall", "L1"],
    "keys import without --label": ["keys", "import", "KEYFILE"],
    "show with a non-number": ["producer", "show", "abc"],
    "farm --producer not a number": ["farm", "add", "--producer", "one"],
    "farm area id too large": ["batch", "create", "--product", "1", "--farm-area", str(10**20), "--lot-code", "X",
                               "--quantity", "2", "--production-date", "2025-01-01", "--expiry-date", "2026-01-01"],
    "show id too large": ["producer", "show", str(10**20)],
    "unknown command": ["frobnicate"],
    "unknown option": ["verify", "X", "--colour"],
    "from-json file missing": ["producer", "add", "--from-json", "/nonexistent/p.json"],
    "issue without batch": ["issue"],
}


@pytest.mark.parametrize("name", USAGE_ERRORS)
def test_usage_errors(world: World, name: str) -> None:
    args = [str(world.root / "issued-L1" / "codes.csv") if part == "KEYFILE" else part for part in USAGE_ERRORS[name]]
    assert_error(invoke(world.inst, *args), exit_code=2)


PRODUCER = {"name": "HTX A", "kind": "cooperative", "province": "Sơn La", "commune": "xã B"}
BATCH = {"product_id": 1, "lot_code": "J1", "quantity": 3, "production_date": PRODUCED.isoformat(), "expiry_date": L1_EXPIRY.isoformat()}

JSON_ERRORS = {
    "invalid JSON": ("producer", b'{"name": "x",', "not valid JSON"),
    "a list, not an object": ("producer", b'[1, 2]', "one JSON object"),
    "not UTF-8": ("producer", b'\xff\xfe{"name": "x"}', "json"),
    "unknown field": ("producer", json.dumps({**PRODUCER, "nmae": "x"}).encode(), "nmae"),
    "missing name": ("producer", json.dumps({k: v for k, v in PRODUCER.items() if k != "name"}).encode(), "name"),
    "bad kind": ("producer", json.dumps({**PRODUCER, "kind": "company"}).encode(), "kind"),
    "number as text field": ("producer", json.dumps({**PRODUCER, "phone": 912345678}).encode(), "phone"),
    "farm without producer": ("farm", json.dumps({"name": "v", "province": "p"}).encode(), "--producer"),
    "farm of unknown producer": ("farm", json.dumps({"producer_id": 99, "name": "v", "province": "p"}).encode(), "99"),
    "bad growing-area code": ("farm", json.dumps({"producer_id": 1, "name": "v", "province": "p", "code": "XX-1"}).encode(), "code"),
    "latitude without longitude": ("farm", json.dumps({"producer_id": 1, "name": "v", "province": "p", "latitude": 21}).encode(), "longitude"),
    "bad gtin check digit": ("product", json.dumps({"producer_id": 1, "name": "p", "category": "c", "gtin": "8930000000010"}).encode(), "gtin"),
    "5 stars at province level": ("product", json.dumps({"producer_id": 1, "name": "p", "category": "c", "ocop_stars": 5,
                                                        "ocop_certificate_no": "x", "ocop_level": "province",
                                                        "ocop_issued": "2025-01-01"}).encode(), "ocop_level"),
    "quantity not a number": ("batch", json.dumps({**BATCH, "quantity": "many"}).encode(), "quantity"),
    "quantity too large": ("batch", json.dumps({**BATCH, "quantity": 10_000_001}).encode(), "quantity"),
    "expiry before production": ("batch", json.dumps({**BATCH, "expiry_date": "2000-01-01"}).encode(), "production_date"),
    "impossible date": ("batch", json.dumps({**BATCH, "production_date": "2025-02-30"}).encode(), "production_date"),
    "unknown product": ("batch", json.dumps({**BATCH, "product_id": 42}).encode(), "42"),
    "unknown farm area": ("batch", json.dumps({**BATCH, "farm_area_ids": [42]}).encode(), "42"),
    "farm_area_ids not a list": ("batch", json.dumps({**BATCH, "farm_area_ids": 1}).encode(), "farm_area_ids"),
    "farm_area_ids nested list": ("batch", json.dumps({**BATCH, "farm_area_ids": [[1]]}).encode(), "farm_area_ids"),
    "origin_steps not a list": ("batch", json.dumps({**BATCH, "origin_steps": 5}).encode(), "origin_steps"),
    "origin step not an object": ("batch", json.dumps({**BATCH, "origin_steps": ["harvest"]}).encode(), "origin_steps"),
    "steps out of order": ("batch", json.dumps({**BATCH, "origin_steps": [
        {"step": "b", "date": PRODUCED.isoformat(), "place": "p"},
        {"step": "a", "date": HARVEST.isoformat(), "place": "p"}]}).encode(), "origin_steps[1].date"),
}


@pytest.mark.parametrize("name", JSON_ERRORS)
def test_bad_json_input(world: World, name: str) -> None:
    command, content, expected = JSON_ERRORS[name]
    source = world.root / "input.json"
    source.write_bytes(content)
    before = ok(invoke(world.inst, command, "list"))
    line = assert_error(invoke(world.inst, command, *(["create"] if command == "batch" else ["add"]), "--from-json", source))
    assert expected.lower() in line.lower()
    assert ok(invoke(world.inst, command, "list")) == before


OPTION_ERRORS = {
    "producer without name": (["producer", "add", "--kind", "household", "--province", "P", "--commune", "C"], "name"),
    "producer without province": (["producer", "add", "--name", "N", "--kind", "household", "--commune", "C"], "province"),
    "bad e-mail": (["producer", "add", "--name", "N", "--kind", "household", "--province", "P", "--commune", "C",
                    "--email", "not-an-email"], "email"),
    "bad tax code": (["producer", "add", "--name", "N", "--kind", "household", "--province", "P", "--commune", "C",
                      "--tax-code", "12345"], "tax_code"),
    "farm without --producer": (["farm", "add", "--name", "v", "--province", "p"], "--producer"),
    "product without category": (["product", "add", "--producer", "1", "--name", "p"], "category"),
    "ocop stars out of range": (["product", "add", "--producer", "1", "--name", "p", "--category", "c", "--ocop-stars", "6",
                                 "--ocop-certificate-no", "x", "--ocop-issued", "2025-01-01"], "ocop_stars"),
    "image not an image": (["product", "add", "--producer", "1", "--name", "p", "--category", "c", "--image", "CSV"], "image"),
    "batch without expiry": (["batch", "create", "--product", "1", "--lot-code", "X", "--quantity", "2",
                              "--production-date", "2025-01-01"], "expiry_date"),
    "batch without --product": (["batch", "create", "--lot-code", "X"], "--product"),
    "batch of unknown product": (["batch", "create", "--product", "77", "--lot-code", "X", "--quantity", "2",
                                 "--production-date", "2025-01-01", "--expiry-date", "2026-01-01"], "77"),
    "lot code with spaces": (["batch", "create", "--product", "1", "--lot-code", "LÔ 1", "--quantity", "2",
                              "--production-date", "2025-01-01", "--expiry-date", "2026-01-01"], "lot_code"),
    "bad --step": (["batch", "create", "--product", "1", "--step", "Thu hoạch|2025-01-01"], "--step"),
    "step with a bad date": (["batch", "create", "--product", "1", "--lot-code", "X", "--quantity", "2",
                              "--production-date", "2025-01-01", "--expiry-date", "2026-01-01",
                              "--step", "Thu hoạch|hôm qua|Vườn"], "origin_steps[0].date"),
    "show unknown id": (["product", "show", "99"], "99"),
    "issue unknown batch": (["issue", "NOPE", "--count", "1"], "NOPE"),
    "show unknown batch": (["batch", "show", "deadbeefdeadbeef"], "deadbeefdeadbeef"),
    "export unknown batch": (["batch", "export", "NOPE"], "NOPE"),
    "recall unknown batch": (["recall", "NOPE", "--reason", "x"], "NOPE"),
    "recall with an empty reason": (["recall", "L1", "--reason", " "], "reason"),
    "revoke unknown key": (["revoke", "0123456789abcdef"], "0123456789abcdef"),
    "revoke a too-short key id": (["revoke", "ab"], "ab"),
    "retire unknown key": (["keys", "retire", "fedcba9876543210"], "fedcba9876543210"),
    "export unknown key": (["keys", "export", "fedcba98"], "fedcba98"),
    "import a non-PEM key": (["keys", "import", "CSV", "--label", "x"], "PEM"),
    "import a non-batch": (["batch", "import", "CSV"], ""),
    "verify with a bad --today": (["verify", "X", "--today", "31/02/2026"], "--today"),
}


@pytest.mark.parametrize("name", OPTION_ERRORS)
def test_bad_options(world: World, name: str) -> None:
    args, expected = OPTION_ERRORS[name]
    args = [str(world.issued_dir / "codes.csv") if part == "CSV" else part for part in args]
    line = assert_error(invoke(world.inst, *args))
    assert expected in line


# ---------------------------------------------------------------------------------------------------
# records a label cannot print, and correcting records
# ---------------------------------------------------------------------------------------------------
def create_batch_args(lot: str, product: int = 1) -> list[object]:
    return ["batch", "create", "--product", product, "--farm-area", 1, "--lot-code", lot, "--quantity", 3,
            "--production-date", PRODUCED, "--expiry-date", L2_EXPIRY]


@pytest.mark.parametrize("name", ["Mật ong 🐝 rừng", "Mật ong \u202erừng"], ids=["emoji", "direction mark"])
def test_product_add_refuses_a_name_that_would_not_print_as_typed(world: World, name: str) -> None:
    before = ok(invoke(world.inst, "product", "list"))
    line = assert_error(invoke(world.inst, "product", "add", "--producer", 1, "--name", name, "--category", "Mật ong"))
    assert line.startswith("Error: name: holds ") and ("cannot print" in line or "false order" in line)
    assert ok(invoke(world.inst, "product", "list")) == before


def test_a_product_stored_before_the_check_is_refused_at_batch_create_until_edited(world: World) -> None:
    """Before: batch create signed it, and then every issue of the batch failed (even --format csv)."""
    instance = Instance.open(world.inst)
    try:  # what an earlier version stored without the check
        product_id = instance.store.add_record("products", {"producer_id": 1, "name": "Mật ong 🐝 rừng"},
                                               {"name": "Mật ong 🐝 rừng", "category": "Mật ong"})
    finally:
        instance.close()
    line = assert_error(invoke(world.inst, *create_batch_args("EMOJI-1", product_id)), contains="'🐝' (U+1F41D)")
    assert f"ocop-stamps product edit {product_id} --name" in line
    assert "EMOJI-1" not in ok(invoke(world.inst, "batch", "list"))
    assert ok(invoke(world.inst, "product", "edit", product_id, "--name", "Mật ong rừng")).strip() == f"Product {product_id} updated."
    ok(invoke(world.inst, *create_batch_args("EMOJI-1", product_id)))
    ok(invoke(world.inst, "issue", "EMOJI-1", "--count", 2, "--format", "csv", "--out", world.root / "emoji"))
    assert len(read_codes(world.root / "emoji")) == 3


def test_edit_commands_take_the_add_options_and_json(world: World) -> None:
    ok(invoke(world.inst, "producer", "edit", 1, "--phone", "", "--email", "htx@example.vn"))
    producer = json.loads(ok(invoke(world.inst, "producer", "show", 1)))
    assert "phone" not in producer and producer["email"] == "htx@example.vn" and producer["name"] == "HTX Hợp Tiến"
    ok(invoke(world.inst, "producer", "add", "--name", "HTX Khác", "--kind", "household", "--province", "P", "--commune", "C"))
    ok(invoke(world.inst, "farm", "edit", 1, "--from-json", write_json(world.root / "farm.json", {
        "producer_id": 2, "area_ha": "12.5", "certifications": ["VietGAP", "Hữu cơ"]}), "--name", "Vùng ong mới"))
    area = json.loads(ok(invoke(world.inst, "farm", "show", 1)))
    assert (area["producer_id"], area["name"], area["area_ha"], area["certifications"]) == (2, "Vùng ong mới", "12.5",
                                                                                         ["VietGAP", "Hữu cơ"])
    assert area["code"] == "VN-QN-BL-0007-25"
    ok(invoke(world.inst, "product", "edit", 1, "--ocop-stars", 5, "--ocop-level", "national", "--standards", "TCVN 12605:2019"))
    shown = json.loads(ok(invoke(world.inst, "product", "show", 1)))
    assert (shown["ocop_stars"], shown["ocop_level"], shown["standards"]) == (5, "national", ["TCVN 12605:2019"])


EDIT_ERRORS = {
    "nothing to change": (["product", "edit", "1"], "Nothing to change"),
    "unknown id": (["producer", "edit", "9", "--name", "X"], "no producer with id 9"),
    "breaks a rule": (["product", "edit", "1", "--gtin", "8930000000010"], "gtin: has a wrong check digit"),
    "unprintable name": (["product", "edit", "1", "--name", "Mật ong ☕"], "cannot print"),
    "direction mark": (["farm", "edit", "1", "--location", "\u2067Bản A"], "location: holds the invisible direction mark"),
    "unknown producer": (["farm", "edit", "1", "--producer", "7", "--name", "X"], "no producer with id 7"),
    "bad email": (["producer", "edit", "1", "--email", "not-an-email"], "email"),
}


@pytest.mark.parametrize("name", EDIT_ERRORS)
def test_a_refused_edit_changes_nothing(world: World, name: str) -> None:
    args, expected = EDIT_ERRORS[name]
    before = [ok(invoke(world.inst, group, "show", 1)) for group in ("producer", "farm", "product")]
    assert_error(invoke(world.inst, *args), contains=expected)
    assert [ok(invoke(world.inst, group, "show", 1)) for group in ("producer", "farm", "product")] == before


def test_editing_a_product_leaves_its_signed_batches_and_their_stamps_as_signed(world: World) -> None:
    before = json.loads(ok(invoke(world.inst, "batch", "show", "L1")))
    ok(invoke(world.inst, "product", "edit", 1, "--name", "Mật ong rừng Bình Liêu (mới)", "--ocop-certificate-no", "QN-2026-9"))
    ok(invoke(world.inst, "producer", "edit", 1, "--name", "HTX Hợp Tiến Mới"))
    assert json.loads(ok(invoke(world.inst, "batch", "show", "L1"))) == before
    code, payload = verify_json(world.inst, world.codes[0])
    signed = payload["batch"]["record"]
    assert code == EXIT["genuine"] and signed["product"]["name"] == "Mật ong rừng Bình Liêu"
    assert signed["producer"]["name"] == "HTX Hợp Tiến" and signed == before["record"]
    record = json.loads(ok(invoke(world.inst, "batch", "show", re.search(
        r"Batch ([0-9a-f]{16}) signed", ok(invoke(world.inst, *create_batch_args("L3")))).group(1))))["record"]
    assert record["product"]["name"] == "Mật ong rừng Bình Liêu (mới)" and record["producer"]["name"] == "HTX Hợp Tiến Mới"
    assert record["product"]["ocop_certificate_no"] == "QN-2026-9"


BATCH_WARNINGS = {  # lot, expiry date, what stderr says (nothing: no warning)
    "in order": ("W1", L2_EXPIRY, []),
    "OCOP expires first": ("W2", L1_EXPIRY, [f"expires on {OCOP_EXPIRES}, before the batch does ({L1_EXPIRY})"]),
    "already expired": ("W3", PRODUCED, [f"expiry date {PRODUCED} is already past"]),
    "lot code reused": ("L2", L2_EXPIRY, ["Lot code L2 is also used by batch"]),
}


@pytest.mark.parametrize("case", BATCH_WARNINGS)
def test_batch_create_warns_but_signs(world: World, case: str) -> None:
    lot, expiry, expected = BATCH_WARNINGS[case]
    args = create_batch_args(lot)
    args[args.index("--expiry-date") + 1] = expiry
    if case == "already expired":
        args[args.index("--production-date") + 1] = PRODUCED - dt.timedelta(days=30)
    result = invoke(world.inst, *args)
    assert result.exit_code == 0 and "signed: lot " + lot in result.stdout, describe(result)
    warnings = result.stderr.splitlines()
    assert len(warnings) == len(expected) and all(line.startswith("Warning: ") for line in warnings), result.stderr
    assert all(text in line for text, line in zip(expected, warnings)), result.stderr
    digest = re.search(r"Batch ([0-9a-f]{16}) signed", result.stdout).group(1)
    assert json.loads(ok(invoke(world.inst, "batch", "show", digest)))["record"]["batch"]["lot_code"] == lot


def test_revoked_key_cannot_be_reactivated(world: World) -> None:
    ok(invoke(world.inst, "revoke", world.key_id))
    assert_error(invoke(world.inst, "keys", "retire", world.key_id), contains="cannot be undone")


def test_corrupt_database(tmp_path: Path) -> None:
    (tmp_path / "inst").mkdir()
    (tmp_path / "inst" / "ocop-stamps.db").write_bytes(b"this is not sqlite" * 100)
    assert_error(invoke(tmp_path / "inst", "batch", "list"), contains="database")


def test_unreadable_key_file_permissions(world: World) -> None:
    if os.name != "posix":
        pytest.skip("owner-only permission check is POSIX only")
    (world.inst / "private-keys" / f"{world.key_id}.key.pem").chmod(0o644)
    assert_error(invoke(world.inst, "issue", "L2", "--count", 1, "--out", world.root / "x"), contains="chmod 600")
    assert batch_issued(world.inst, "L2") == "0/5"


def test_demo_refuses_an_existing_folder(tmp_path: Path) -> None:
    assert_error(CliRunner().invoke(ocop_cli, ["demo", "--dir", str(tmp_path)]), contains="already exists")


def test_demo_runs(tmp_path: Path) -> None:
    out = ok(CliRunner().invoke(ocop_cli, ["demo", "--dir", str(tmp_path / "demo"), "--no-serve"]))
    assert "GENUINE: Tem chính hãng" in out and "INVALID: Tem giả" in out
    assert len(read_codes(next((tmp_path / "demo" / "output").iterdir()))) == 1 + DEMO_STAMPS
    assert "The verifier is running" not in out
    hub = tmp_path / "demo" / "chain" / "hub"
    assert f"published 2 items (its endorsement and its batch) to a local hub ({hub})" in out
    attested = "4 sao OCOP (cấp tỉnh) — Văn phòng Điều phối NTM tỉnh Điện Biên, QĐ số 1050/QĐ-UBND"
    assert attested in out.split("The trust chain")[1]
    genuine = out.split("$ ocop-stamps verify ")[1].split()[0]
    at_hub = ok(CliRunner().invoke(ocop_cli, ["--instance", str(hub), "verify", genuine]))
    assert at_hub.startswith("GENUINE") and attested in at_hub


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_demo_starts_the_verifier_and_prints_one_url_to_open(tmp_path: Path) -> None:
    port = free_port()
    out = ok(CliRunner().invoke(ocop_cli, ["demo", "--dir", str(tmp_path / "demo"), "--port", str(port)]))
    urls = [line.strip() for line in out.splitlines() if line.strip().startswith(f"http://LOCALHOST:{port}/V/")]
    assert len(urls) == 1 and "The verifier is running" in out and "verifier answered and is stopped" in out
    assert read_codes(next((tmp_path / "demo" / "output").iterdir()))[1][1] == urls[0]
    with socket.socket() as probe:  # stopped again: nothing listens (SO_REUSEADDR only ignores closed connections)
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))


def test_demo_refuses_a_busy_port_before_writing_anything(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(ocop_cli, ["demo", "--dir", str(tmp_path / "demo"), "--port", str(port)])
    assert_error(result, contains=f"Port {port} on 127.0.0.1 is already in use")
    assert not (tmp_path / "demo").exists()


def test_serve_refuses_a_busy_port_and_an_uninitialised_instance(tmp_path: Path) -> None:
    assert_error(CliRunner().invoke(ocop_cli, ["--instance", str(tmp_path / "none"), "serve"]), contains="not an initialised instance")
    ok(CliRunner().invoke(ocop_cli, ["demo", "--dir", str(tmp_path / "demo"), "--no-serve"]))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(ocop_cli, ["--instance", str(tmp_path / "demo"), "serve", "--port", str(port)])
    assert_error(result, contains="already in use")


@pytest.mark.parametrize("server", ["gunicorn", "waitress"])
def test_serve_answers_over_http_with_a_production_server(tmp_path: Path, server: str) -> None:
    ok(CliRunner().invoke(ocop_cli, ["demo", "--dir", str(tmp_path / "demo"), "--no-serve"]))
    port = free_port()
    child = subprocess.Popen([sys.executable, "-m", "cli", "--instance", str(tmp_path / "demo"), "serve", "--port", str(port),
                              "--server", server, "--workers", "2", "--no-access-log"],
                             cwd=Path(cli_module.__file__).parent, stderr=subprocess.PIPE)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/healthz", child.poll)
        code = read_codes(next((tmp_path / "demo" / "output").iterdir()))[3][1]
        token = code.rsplit("/", 1)[1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/V/{token}") as response:
            page = response.read().decode("utf-8")
        assert response.status == 200 and "<h1>Tem chính hãng</h1>" in page
    finally:
        stop_verifier(child)
        assert child.stderr is not None
        with child.stderr:
            banner = child.stderr.read().decode("utf-8")
    assert f"({server}, 2 workers)" in banner


# ---------------------------------------------------------------------------------------------------
# help on every command
# ---------------------------------------------------------------------------------------------------
def command_tree(command: click.Command = ocop_cli, path: tuple[str, ...] = ()):
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from command_tree(sub, path + (name,))


COMMANDS = dict(command_tree())


def test_command_tree_is_complete() -> None:
    expected = {"init", "keys generate", "keys list", "keys export", "keys import", "keys retire", "revoke",
                "producer add", "producer edit", "producer list", "producer show", "farm add", "farm edit", "farm list",
                "farm show", "product add", "product edit", "product list", "product show", "batch create", "batch list", "batch show",
                "batch export", "batch import", "recall", "issue", "verify", "demo", "serve"}
    assert expected <= {" ".join(path) for path in COMMANDS}


@pytest.mark.parametrize("path", list(COMMANDS), ids=lambda path: " ".join(path) or "ocop-stamps")
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help(tmp_path: Path, path: tuple[str, ...], flag: str) -> None:
    command = COMMANDS[path]
    help_text = (command.help or "").strip()
    assert help_text, f"'{' '.join(path)}' has no help text"
    out = ok(invoke(tmp_path / "inst", *path, flag))
    assert out.startswith("Usage: " + " ".join(("ocop-stamps", *path)) + " ")
    first_paragraph = help_text.split("\n\n")[0]
    assert " ".join(first_paragraph.split()) in " ".join(out.split())
    if isinstance(command, click.Group):
        assert all(f"  {name}" in out for name in command.commands)
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"option {param.opts} of '{' '.join(path)}' has no help"
    assert not (tmp_path / "inst").exists()


def test_group_help_lists_every_subcommand_with_its_summary() -> None:
    for path, command in COMMANDS.items():
        if not isinstance(command, click.Group):
            continue
        out = ok(invoke(Path("unused"), *path, "--help"))
        for name in command.commands:
            line = next((line for line in out.splitlines() if line.strip().split(" ")[0] == name), None)
            assert line is not None and line.strip() != name, f"'{' '.join((*path, name))}' has no summary in --help"


# ---------------------------------------------------------------------------------------------------
# real processes: python cli.py and the ocop-stamps console script
# ---------------------------------------------------------------------------------------------------
def process_env() -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name != "OCOP_STAMPS_HOME"}
    env[PASSPHRASE_ENV] = PASSPHRASE
    return env


def console_script() -> str:
    script = Path(sys.executable).with_name("ocop-stamps.exe" if os.name == "nt" else "ocop-stamps")
    assert script.exists(), f"console script missing next to {sys.executable}"
    return str(script)


def run_process(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(argv, check=False, cwd=cwd, env=process_env(), capture_output=True, text=True, encoding="utf-8", timeout=60)


def test_python_cli_py_help(tmp_path: Path) -> None:
    done = run_process(sys.executable, str(ROOT / "cli.py"), "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage:")
    assert all(name in done.stdout for name in ("init", "keys", "issue", "verify"))
    assert done.stderr == ""


def test_console_script_help_and_version() -> None:
    done = run_process(console_script(), "--help")
    assert done.returncode == 0 and done.stdout.startswith("Usage: ocop-stamps"), done.stderr
    version = run_process(console_script(), "--version")
    assert version.returncode == 0 and importlib.metadata.version("ocop-stamps") in version.stdout


def test_console_script_error_is_one_line(tmp_path: Path) -> None:
    done = run_process(console_script(), "--instance", str(tmp_path / "none"), "batch", "list")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("Error: ") and done.stdout == ""


@pytest.mark.parametrize("forge, exit_code, title", [(False, 0, "Tem chính hãng"), (True, 4, "Tem giả")], ids=["genuine", "forged"])
def test_console_script_verify_exit_codes(world: World, forge: bool, exit_code: int, title: str) -> None:
    url = change_char(world.codes[4], 100) if forge else world.codes[4]
    done = run_process(console_script(), "--instance", str(world.inst), "verify", url)
    assert (done.returncode, "Traceback" in done.stderr) == (exit_code, False), done.stderr
    assert title in done.stdout


def test_python_cli_py_issues_and_verifies(world: World) -> None:
    out = world.root / "proc"
    done = run_process(sys.executable, "cli.py", "--instance", str(world.inst), "issue", "L2", "--count", "2", "--out", str(out))
    assert done.returncode == 0, done.stderr
    code = read_codes(out)[2][1]
    verified = run_process(sys.executable, "cli.py", "--instance", str(world.inst), "verify", code.lower(), "--json")
    assert verified.returncode == 0 and json.loads(verified.stdout)["stamp"]["serial"] == 2
