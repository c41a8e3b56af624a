"""The verifier's routes: the scan page a phone camera opens, the JSON API, the trust list.

- ``/V/<token>`` (any letter case): the result page, logged in the scan log;
- ``GET|POST /api/v1/verify?code=...``: the same verification as JSON;
- ``GET /api/v1/keys``: the trust list (public keys with ids and statuses);
- ``POST /api/v1/publish``: a hub takes signed statements and batch records (stamps.roles.acceptance);
- ``/img/<sha256>``: a product thumbnail, content-addressed;
- ``/healthz``: the instance can be read.

The shapes are documented in docs/verifier-api.md.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
import re
from typing import Any, Callable, Hashable

from flask import Blueprint, Response, abort, current_app, get_template_attribute, jsonify, render_template, request
from markupsafe import Markup
from werkzeug.exceptions import RequestEntityTooLarge, TooManyRequests
from werkzeug.wsgi import get_input_stream

from keys.keyfile import public_key_bytes
from stamps import registry
from stamps.scans import NO_HISTORY, ScanHistory
from stamps.present import Lang
from stamps.batch_record import StoredBatch
from stamps.roles.hub import served_bundle
from stamps.trust.chain import Attestation
from stamps.trust.publication import MAX_REQUEST_BYTES, Rejected
from stamps.verify import Result, Verification
from verify_server.clients import client_hint, client_of, network_of
from verify_server.i18n import choose_language
from verify_server.runtime import Runtime, vietnam_today
from verify_server.security import ERROR_MAX_AGE, KEYS_MAX_AGE, NO_STORE, STATIC_MAX_AGE, cache_control, cache_for
from verify_server.shells import PageShells
from verify_server.view import page_key, record_view, result_page, unit_lines

MAX_CODE_LENGTH = 2048
RECORD_CACHE_SIZE = 1024
TRUST_LIST_FORMAT = "ocop-trust-list/1"
BUNDLE_MAX_AGE = 300  # a bundle is signed daily or so; proxies may keep it five minutes
HTML = "text/html; charset=utf-8"
JSON_TYPE = "application/json"
_HOST = re.compile(r"[a-z0-9.-]{1,253}(:[0-9]{1,5})?|\[[0-9a-f:.]{2,45}\](:[0-9]{1,5})?")

blueprint = Blueprint("verifier", __name__)


def runtime() -> Runtime:
    found: Runtime = current_app.extensions["ocop_runtime"]
    return found


@blueprint.get("/")
def home() -> Any:
    response = current_app.make_response(render_template("home.html", lang=choose_language(request)))
    response.vary.add("Accept-Language")
    return cache_for(response, ERROR_MAX_AGE)


@blueprint.get("/V/<token>")
@blueprint.get("/v/<token>")
@blueprint.get("/V/<path:token>")  # a stamp URL with more after it (a trailing slash, an app's suffix): the same
@blueprint.get("/v/<path:token>")  # friendly "not a stamp" page; the plain rules above match first
def scan(token: str) -> Any:
    """The page a stamp's QR opens: one verdict, the proven origin, the unit's scan history."""
    lang = choose_language(request)
    verification, history = _verify_and_log(token, channel="page")
    html = _result_html(verification, history, lang, shown_host())
    if verification.result is Result.NOT_A_STAMP:  # the same answer for anyone: cacheable
        return Response(html, 404, [("Vary", "Accept-Language"), ("Cache-Control", cache_control(ERROR_MAX_AGE))],
                        content_type=HTML)
    return Response(html, 200, [("Vary", "Accept-Language"), ("Cache-Control", NO_STORE)], content_type=HTML)


@blueprint.route("/api/v1/verify", methods=["GET", "POST"])
def verify_api() -> Any:
    """Verify ``code`` (query string, form field or JSON body) and answer the documented JSON shape."""
    code = _code_from_request()
    if not code or len(code) > MAX_CODE_LENGTH:
        response = jsonify({"error": "missing_code", "message": "Give the stamp code or URL as ?code=... (at most 2048 characters).",
                            "message_vi": "Hãy gửi mã tem hoặc địa chỉ trong tham số ?code=... (tối đa 2048 ký tự)."})
        response.status_code = 400
        return response
    verification, history = _verify_and_log(code, channel="api")
    scans = history.to_json(current_app.config["COPY_THRESHOLD"]) if verification.signature_verified else None
    return Response(_api_json(verification, scans), 200, [("Cache-Control", NO_STORE)], content_type=JSON_TYPE)


@blueprint.get("/api/v1/keys")
def trust_list() -> Any:
    """The trusted public keys (a hub's: those its OCOP offices endorse), JWK-shaped (RFC 8037 OKP / Ed25519), with
    their ids and statuses."""
    keys = runtime().verifier().keys()
    return cache_for(jsonify({"format": TRUST_LIST_FORMAT, "keys": [_jwk(key) for key in keys]}), KEYS_MAX_AGE)


@blueprint.get("/api/v1/bundle")
def bundle() -> Any:
    """The newest inspectors' bundle the hub operator signed (``?province=`` for one province's), as it was signed."""
    body = served_bundle(runtime().instance().store, request.args.get("province", ""))
    if body is None:
        response = jsonify({"error": "no_bundle", "message": "No bundle has been signed for this scope on this verifier.",
                            "message_vi": "Hệ thống chưa có gói dữ liệu kiểm tra cho phạm vi này."})
        response.status_code = 404
        return response
    return Response(body, 200, [("Cache-Control", cache_control(BUNDLE_MAX_AGE))], content_type=JSON_TYPE)


@blueprint.post("/api/v1/publish")
def publish() -> Any:
    """A hub takes endorsements, batch records, recalls and revocations, all of a request or none (JSON answer)."""
    try:
        body = get_input_stream(request.environ, max_content_length=MAX_REQUEST_BYTES).read()
        answer, status = runtime().acceptance.accept(runtime().publishing_store(), body, dt.datetime.now(dt.timezone.utc)), 200
    except RequestEntityTooLarge:
        answer, status = _refused(Rejected(f"The request is larger than {MAX_REQUEST_BYTES:,} bytes.", code="too_large"))
    except Rejected as rejected:
        answer, status = _refused(rejected)
    return Response(_compact(answer), status, [("Cache-Control", NO_STORE)], content_type=JSON_TYPE)


def _refused(rejected: Rejected) -> tuple[dict[str, Any], int]:
    if rejected.status >= 403:
        current_app.logger.warning("publication refused: %s at item %s (%s)", rejected.code, rejected.index, rejected.message)
    return rejected.to_json(), rejected.status


@blueprint.get("/img/<string:sha256>")
def product_image(sha256: str) -> Any:
    found = registry.product_image(runtime().instance().store, sha256)
    if found is None:
        abort(404)
    image, media_type = found
    return cache_for(Response(image, mimetype=media_type), STATIC_MAX_AGE, immutable=True)


@blueprint.get("/healthz")
def health() -> Any:
    runtime().verifier()
    return Response("ok\n", mimetype="text/plain")


@blueprint.get("/robots.txt")
def robots() -> Any:
    """Crawlers stay away from stamp pages (their visits would be logged as scans)."""
    return cache_for(Response("User-agent: *\nDisallow: /V/\nDisallow: /v/\nDisallow: /api/\n", mimetype="text/plain"),
                     ERROR_MAX_AGE)


def _verify_and_log(code: str, *, channel: str) -> tuple[Verification, ScanHistory]:
    """Verify *code* and, for a well-formed one, log the scan (HEAD requests read nothing and log nothing).

    A client over its rate limit gets 429 before any work is done.
    """
    state = runtime()
    environ = request.environ
    address = environ.get("REMOTE_ADDR")
    if "HTTP_X_FORWARDED_FOR" in environ and not current_app.config["TRUSTED_PROXIES"]:
        _warn_untrusted_proxy()
    wait = state.rate_limiter.wait_seconds(client_of(address))
    if wait:
        raise TooManyRequests(retry_after=wait)
    today, network = vietnam_today(), network_of(address)
    client = f"{channel}/{client_hint(environ.get('HTTP_USER_AGENT'))}"
    store = state.instance().store
    reads = state.scan_log.read(store, code, today, network, client)  # with the change mark: one round trip
    verification = state.verifier(None if reads is None else reads.mark).verify(code, today=today)
    if request.method == "HEAD":
        return verification, NO_HISTORY
    # Every request is logged: a reload or a language switch (?lang=) comes from the same place, which counts once a
    # day (a query that went unlogged would let copies printed with it scan without ever being counted).
    return state.scan_log.record(store, verification, client, network, current_app.config["COPY_THRESHOLD"],
                                 reads=reads)


@functools.cache
def _warn_untrusted_proxy() -> None:
    """Once per process: behind a proxy that is not trusted, every shopper looks like one client at one place."""
    current_app.logger.warning("requests carry X-Forwarded-For but no proxy is trusted: every client looks like the "
                               "proxy (one place for copy detection, one rate limit); start the verifier with "
                               "--trusted-proxies 1 (or the number of proxies in front of it)")


def shown_host() -> str:
    """This verifier's host as the request named it, for the page to show (empty when it is not a plain host name)."""
    host = request.environ.get("HTTP_HOST", "").lower()
    return host if _HOST.fullmatch(host) else ""


def _code_from_request() -> str:
    """``code`` from a JSON body, else a form field, else the query string."""
    if request.method == "POST" and request.is_json:
        try:
            body = request.get_json(silent=True)
        except RecursionError:  # nested deeper than the JSON parser can go (2 KB of "[" does it): no code given
            body = None
        code = body.get("code") if isinstance(body, dict) else None
        if isinstance(code, str) and code:
            return code
    return request.values.get("code", "")


def _result_html(verification: Verification, history: ScanHistory, lang: Lang, host: str) -> bytes:
    """The result page (UTF-8): a shell per verdict, batch and language, with the host and this unit's lines filled in."""
    unit = unit_lines(verification, history, lang)
    batch = verification.batch

    def render(markers: tuple[str, ...]) -> str:
        record_head, record_facts = _record_html(batch, verification.ocop, lang)
        return render_template("result.html", lang=lang, host=markers[0], page=result_page(verification, lang),
                               unit=unit.with_values(markers[1:]), record_head=record_head, record_facts=record_facts)

    shells: PageShells = current_app.extensions["ocop_page_shells"]
    return shells.page((page_key(verification, lang), unit.shape), (host, *unit.values), render)


def _api_json(verification: Verification, scans: dict[str, Any] | None) -> bytes:
    """The documented JSON shape, keys in the documented order; the signed record's part is built once per batch.

    The members before ``batch`` and after it are serialised as two objects and joined around the batch's part,
    so nothing but the batch is taken from the cache.
    """
    body = verification.to_json()
    names = list(body)
    split = names.index("batch")
    head = _compact({name: body[name] for name in names[:split]})
    tail = _compact({**{name: body[name] for name in names[split + 1:]}, "scans": scans})
    batch = _batch_json(verification) if verification.batch else "null"
    return f'{head[:-1]},"batch":{batch},{tail[1:]}'.encode("utf-8")


def _batch_json(verification: Verification) -> str:
    """``{"digest": ..., "record": ...}`` of a proven batch, serialised once per digest (a signed record never changes)."""
    batch = verification.batch
    assert batch is not None
    found: str = _kept("ocop_batch_json", batch.digest, lambda: _compact({"digest": batch.digest, "record": batch.record}))
    return found


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _record_html(batch: StoredBatch | None, ocop: Attestation | None, lang: Lang) -> tuple[Markup, Markup]:
    """The record's heading and facts as HTML, rendered once per batch, attestation and language (its only inputs:
    a signed record never changes)."""
    if batch is None:
        return Markup(), Markup()

    def render() -> tuple[Markup, Markup]:
        view = record_view(batch.record, lang, _image_url(batch), ocop)
        template = "record.html"
        return get_template_attribute(template, "head")(view, lang), get_template_attribute(template, "facts")(view, lang)

    html: tuple[Markup, Markup] = _kept("ocop_record_html", (batch.digest, ocop, lang), render)
    return html


def _kept(cache_name: str, key: Hashable, make: Callable[[], Any]) -> Any:
    """*make()* kept in the app's cache *cache_name* under *key*: a key naming a batch by digest names content that
    never changes (a signed record). Bounded: a full cache starts afresh."""
    cache: dict[Hashable, Any] = current_app.extensions[cache_name]
    found = cache.get(key)
    if found is None:
        if len(cache) >= RECORD_CACHE_SIZE:
            cache.clear()
        found = cache[key] = make()
    return found


def _image_url(batch: StoredBatch) -> str | None:
    sha256 = batch.record["product"].get("image_sha256")
    if not sha256 or registry.product_image(runtime().instance().store, sha256) is None:
        return None
    return f"/img/{sha256}"


def _jwk(key: Any) -> dict[str, Any]:
    raw = public_key_bytes(key.public_key)
    return {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": key.key_id,
            "x": base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii"), "key_hint": key.hint.hex(),
            "status": key.status, "reason": key.reason, "label": key.label,
            "fingerprint_sha256": hashlib.sha256(raw).hexdigest()}
