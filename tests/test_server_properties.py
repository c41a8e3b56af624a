"""Property tests: whatever a visitor sends, the verifier answers 2xx/3xx/4xx with a page, never a 5xx."""

from __future__ import annotations

import string
import urllib.parse
from pathlib import Path
from typing import Iterator

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stamps.code import BASE32_ALPHABET
from stamps.demo import run_demo
from verify_server import create_app

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    demo = run_demo(tmp_path_factory.mktemp("props") / "inst", "https://truyxuat.example.vn")
    app = create_app({"INSTANCE": str(demo.instance_root), "RATE_LIMIT_PER_MINUTE": 0})  # one client sends them all
    yield app.test_client()
    app.extensions["ocop_runtime"].close()


def assert_friendly(response: object, path: str) -> None:
    status = response.status_code  # type: ignore[attr-defined]
    body = response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert status < 500, (status, path)
    assert "Traceback" not in body and "<script" not in body.lower()


raw_paths = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)
percent_bytes = st.binary(max_size=120).map(lambda data: urllib.parse.quote_from_bytes(data, safe="/%"))
tokens = st.text(alphabet=BASE32_ALPHABET + BASE32_ALPHABET.lower() + "0189=/-_.~%", min_size=0, max_size=300)


@SETTINGS
@given(path=st.one_of(raw_paths, percent_bytes))
def test_random_paths_never_5xx(client: FlaskClient, path: str) -> None:
    target = "/" + urllib.parse.quote(path, safe="/%?&=;:@+$,")
    # The path goes into the WSGI environ as a server puts it there (bytes as latin-1): given as a URL, the test client
    # would read a leading "//" as a host name and fail to encode it.
    path_part, _, query = target.partition("?")
    environ = {"PATH_INFO": urllib.parse.unquote_to_bytes(path_part).decode("latin-1"), "QUERY_STRING": query}
    assert_friendly(client.get(environ_overrides=environ), target)


@SETTINGS
@given(token=tokens, short=st.sampled_from(["V", "v"]))
def test_random_codes_on_the_scan_route_never_5xx(client: FlaskClient, token: str, short: str) -> None:
    target = f"/{short}/{token}"
    assert_friendly(client.get(target), target)


@SETTINGS
@given(code=st.text(max_size=400), lang=st.text(alphabet=string.printable, max_size=40),
       accept=st.text(alphabet=string.printable, max_size=80), agent=st.text(alphabet=string.printable, max_size=80))
def test_random_codes_queries_and_headers_never_5xx(client: FlaskClient, code: str, lang: str, accept: str, agent: str) -> None:
    headers = {"Accept-Language": accept.replace("\n", " ").replace("\r", " "),
               "User-Agent": agent.replace("\n", " ").replace("\r", " ")}
    for response in (client.get("/api/v1/verify", query_string={"code": code, "lang": lang}, headers=headers),
                     client.post("/api/v1/verify", data={"code": code}, headers=headers),
                     client.get("/V/" + urllib.parse.quote(code, safe=""), query_string={"lang": lang}, headers=headers)):
        assert_friendly(response, code)


@SETTINGS
@given(body=st.binary(max_size=2000), content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded",
                                                                     "multipart/form-data; boundary=x", "text/plain", ""]))
def test_random_request_bodies_never_5xx(client: FlaskClient, body: bytes, content_type: str) -> None:
    assert_friendly(client.post("/api/v1/verify", data=body, content_type=content_type), repr(body[:40]))


def test_non_utf8_bytes_in_the_raw_path_are_a_404(client: FlaskClient, tmp_path: Path) -> None:
    response = client.get("/V/%FF%FE%00", headers={"Accept-Language": "\xff"})
    assert response.status_code == 404
