"""The verifier's words, Vietnamese first, and the choice of language for a request.

Vietnamese unless the visitor asks otherwise: ``?lang=en`` (the visible
switch on every page) wins, then the browser's Accept-Language (English only
when the browser prefers it to Vietnamese).
"""

from __future__ import annotations

import functools

from flask import Request
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from stamps.present import LANGUAGES, Lang, pick
from stamps.verify import Result

DEFAULT_LANG: Lang = "vi"

STRINGS: dict[str, tuple[str, str]] = {
    "site": ("Xác thực tem truy xuất nguồn gốc OCOP", "OCOP traceability stamp check"),
    "switch": ("English", "Tiếng Việt"),
    "first_scan": ("Đây là lần quét đầu tiên của tem này.", "This is the first scan of this stamp."),
    "scanned_before": ("Tem này đã được quét {count} lần trước đây, lần đầu lúc {first}.",
                       "This stamp was scanned {count} times before, first on {first}."),
    "scanned_once_before": ("Tem này đã được quét 1 lần trước đây, lúc {first}.",
                            "This stamp was scanned once before, on {first}."),
    "copy_advice": ("Mỗi tem chỉ dán trên một sản phẩm. Nếu bạn vừa mua sản phẩm mới, tem có thể đã bị sao chép.",
                    "Each stamp belongs on one unit. If this product is new to you, the stamp may have been copied."),
    "recalled_on": ("Thu hồi ngày {date} ({kind}). Lý do: {reason}", "Recalled on {date} ({kind}). Reason: {reason}"),
    "revoked": ("Khóa ký {key_id} ({label}) đã bị thu hồi.", "Signing key {key_id} ({label}) was revoked."),
    "revoked_reason": ("Lý do: {reason}", "Reason: {reason}"),
    "signed_by": ("Được ký bởi: {label}", "Signed by: {label}"),
    "map": ("Xem bản đồ", "Open the map"),
    "details": ("Chi tiết kiểm tra", "Verification details"),
    "checked_on": ("Ngày kiểm tra", "Checked on"),
    "json": ("Kết quả dạng JSON cho cơ quan kiểm tra", "The same result as JSON, for inspectors"),
    "home_text": ("Quét mã QR trên tem truy xuất nguồn gốc bằng camera điện thoại để xem sản phẩm có phải chính hãng "
                  "không, do ai sản xuất, ở vùng trồng nào và khi nào.",
                  "Scan the QR code on a traceability stamp with your phone camera to see whether the product is "
                  "genuine, who made it, where it was grown and when."),
    "keys": ("Danh sách khóa tin cậy", "Trusted keys"),
    "stars": ("{stars} sao OCOP", "{stars}-star OCOP"),
    "not_found": ("Không tìm thấy trang", "Page not found"),
    "not_found_text": ("Địa chỉ này không phải là mã tem truy xuất nguồn gốc. Hãy quét lại mã QR trên tem.",
                       "This address is not a traceability stamp. Scan the QR code on the stamp again."),
    "bad_request": ("Yêu cầu không hợp lệ", "Bad request"),
    "bad_request_text": ("Trang không hiểu yêu cầu này. Hãy quét lại mã QR trên tem.",
                         "This request could not be understood. Scan the QR code on the stamp again."),
    "unavailable": ("Trang xác thực tạm thời chưa sẵn sàng", "The verifier is not available right now"),
    "unavailable_text": ("Hãy thử lại sau ít phút.", "Please try again in a few minutes."),
}

LEADS: dict[Result, tuple[str, str]] = {
    Result.GENUINE: ("Mã này do chủ thể dưới đây ký và phát hành cho đúng sản phẩm này.",
                     "This code was signed and issued by the producer below, for this product."),
    Result.GENUINE_WARNING: ("Tem do chủ thể ký thật, nhưng hãy lưu ý:", "The stamp was really signed by the producer, but note:"),
    Result.RECALLED: ("Không sử dụng sản phẩm này: chủ thể đã thu hồi lô hàng.",
                      "Do not use this product: the producer has recalled the batch."),
    Result.REVOKED_KEY: ("Khóa ký của đơn vị phát hành đã bị thu hồi, nên không thể xác nhận tem này là chính hãng.",
                         "The issuer's signing key was revoked, so this stamp cannot be confirmed as genuine."),
    Result.UNKNOWN_ISSUER: ("Mã được ký bằng một khóa mà trang xác thực này không biết.",
                            "The code is signed by a key this verifier does not know."),
    Result.FORGED: ("Mã này không phải do chủ thể nào ký. Sản phẩm có thể là hàng giả.",
                    "No producer signed this code. The product may be counterfeit."),
    Result.NOT_A_STAMP: ("Đây không phải mã tem truy xuất nguồn gốc OCOP. Hãy quét lại mã QR trên tem.",
                         "This is not an OCOP traceability stamp code. Scan the QR code on the stamp again."),
    Result.UNKNOWN_BATCH: ("Chữ ký hợp lệ, nhưng trang này chưa có hồ sơ của lô hàng.",
                           "The signature is valid, but this verifier has no record of the batch yet."),
}

REPORT_ADVICE = ("Hãy báo cho cửa hàng hoặc cơ quan quản lý thị trường.", "Tell the shop or the market surveillance office.")


def text(key: str, lang: Lang, **values: object) -> str:
    """One of the verifier's sentences in *lang*, with its ``{placeholders}`` filled."""
    return pick(STRINGS[key], lang).format(**values)


def choose_language(request: Request) -> Lang:
    """``?lang=`` first, then Accept-Language, else Vietnamese."""
    if request.environ.get("QUERY_STRING"):  # a stamp URL has none: skip parsing an empty query on every scan
        asked = request.args.get("lang", "").strip().lower()
        if asked in LANGUAGES:
            return asked  # type: ignore[return-value]
    return _preferred_language(request.environ.get("HTTP_ACCEPT_LANGUAGE", ""))


@functools.lru_cache(maxsize=512)
def _preferred_language(accept_language: str) -> Lang:
    """Parsing the header costs more than the rest of the choice; browsers send a handful of distinct values."""
    best = LanguageAccept(parse_accept_header(accept_language)).best_match(LANGUAGES, default=DEFAULT_LANG)
    return "en" if best == "en" else "vi"
