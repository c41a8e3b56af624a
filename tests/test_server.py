"""The verifier's JSON API over the same instance the CLI keeps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from stamps.demo import run_demo, tamper
from verify_server import create_app


@pytest.fixture()
def demo(tmp_path: Path) -> Any:
    return run_demo(tmp_path / "inst", "https://truyxuat.example.vn")


@pytest.fixture()
def client(demo: Any) -> FlaskClient:
    return create_app({"INSTANCE": str(demo.instance_root), "TESTING": True}).test_client()


def test_genuine_code_as_json(client: FlaskClient, demo: Any) -> None:
    response = client.get("/api/v1/verify", query_string={"code": demo.genuine_url})
    assert response.status_code == 200
    body = response.get_json()
    assert body["result"] in ("genuine", "genuine_warning") and body["batch"]["digest"] == demo.batch.digest


def test_post_and_lower_case(client: FlaskClient, demo: Any) -> None:
    body = client.post("/api/v1/verify", data={"code": demo.genuine_url.lower()}).get_json()
    assert body["stamp"]["signature_verified"] is True


@pytest.mark.parametrize("code, result", [("<script>alert(1)</script>", "not_a_stamp"), ("%%%", "not_a_stamp")])
def test_malformed_codes_get_a_result_not_an_error(client: FlaskClient, code: str, result: str) -> None:
    response = client.get("/api/v1/verify", query_string={"code": code})
    assert response.status_code == 200 and response.get_json()["result"] == result


def test_tampered_code_is_forged(client: FlaskClient, demo: Any) -> None:
    assert client.get("/api/v1/verify", query_string={"code": tamper(demo.genuine_url)}).get_json()["result"] == "forged"


def test_missing_code_is_400(client: FlaskClient) -> None:
    assert client.get("/api/v1/verify").status_code == 400


def test_unknown_path_is_a_friendly_404(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404 and "Không tìm thấy trang" in response.get_data(as_text=True)


def test_uninitialised_instance_is_503_not_500(tmp_path: Path) -> None:
    client = create_app({"INSTANCE": str(tmp_path / "none"), "TESTING": True}).test_client()
    assert client.get("/api/v1/verify", query_string={"code": "x"}).status_code == 503
