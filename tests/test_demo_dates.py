"""The demo's dates follow the day it runs, so the demo verifies green in any year."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources
from pathlib import Path

import pytest

from stamps.demo import demo_data, run_demo
from stamps.records import Batch, Product
from stamps.verify import Result

DAYS = [dt.date.today(), dt.date(2029, 12, 31), dt.date(2032, 2, 29), dt.date(2041, 7, 15)]


def written() -> dict:
    return json.loads(resources.files("stamps").joinpath("data/demo.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("today", DAYS, ids=str)
def test_the_demo_records_are_current_on_any_day(today: dt.date) -> None:
    data = demo_data(today)
    batch = Batch.from_input(data["batch"]["fields"])
    assert batch.production_date <= today < batch.expiry_date
    assert all(step.date <= today for step in batch.origin_steps)
    for entry in data["producers"]:
        for product in entry["products"]:
            ocop = Product.from_input({k: v for k, v in product.items() if k != "key"}).ocop
            assert ocop is not None and ocop.issued <= today <= ocop.expires


def test_the_demo_records_as_of_their_day_are_as_written() -> None:
    """The golden vectors are built from the demo as written (docs/vectors/generate.py asks for that day)."""
    data = written()
    assert demo_data(dt.date.fromisoformat(data["dates_as_of"])) == data
    moved = demo_data(dt.date.fromisoformat(data["dates_as_of"]) + dt.timedelta(days=400))
    assert moved["batch"]["fields"]["lot_code"] == data["batch"]["fields"]["lot_code"]
    assert moved["batch"]["fields"]["expiry_date"] != data["batch"]["fields"]["expiry_date"]


def test_the_demo_verifies_green_years_from_now(tmp_path: Path) -> None:
    run = run_demo(tmp_path / "demo", "https://truyxuat.example.vn", today=DAYS[-1])
    assert run.genuine.result is Result.GENUINE and run.genuine.reasons == ()
    assert run.tampered.result is Result.FORGED
