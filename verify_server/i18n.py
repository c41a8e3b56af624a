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
    "no_other_place": ("Chưa có nơi nào khác quét tem này.", "No other place has scanned this stamp."),
    "other_places": ("Tem được quét lần đầu ngày {first}; đến nay đã được quét ở {count} nơi khác.",
                     "First scanned on {first}; scanned from {count} other places so far."),
    "one_other_place": ("Tem được quét lần đầu ngày {first}; đến nay đã được quét ở 1 nơi khác.",
                        "First scanned on {first}; scanned from 1 other place so far."),
    "copy_advice": ("Mỗi tem chỉ dán trên một sản phẩm, nên thường chỉ được quét ở một vài nơi. Nếu bạn vừa mua sản phẩm "
                    "này, tem có thể đã bị sao chép: hãy báo cho cửa hàng.",
                    "Each stamp belongs on one unit, so it is usually scanned from only a few places. If you have just "
                    "bought this product, the stamp may have been copied: tell the shop."),
    "recalled_on": ("Thu hồi ngày {date} ({kind}). Lý do: {reason}", "Recalled on {date} ({kind}). Reason: {reason}"),
    "revoked_reason": ("Lý do thu hồi khóa: {reason}", "Why the key was revoked: {reason}"),
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
    "api_not_found_text": ("Không có địa chỉ API này trên hệ thống (xem docs/verifier.md).",
                           "There is no such API address on this verifier (see docs/verifier.md)."),
    "api_method_text": ("Địa chỉ API này không nhận phương thức HTTP đó.", "This API address does not take that HTTP method."),
    "not_found_text": ("Địa chỉ này không phải là mã tem truy xuất nguồn gốc. Hãy quét lại mã QR trên tem.",
                       "This address is not a traceability stamp. Scan the QR code on the stamp again."),
    "bad_request": ("Yêu cầu không hợp lệ", "Bad request"),
    "bad_request_text": ("Trang không hiểu yêu cầu này. Hãy quét lại mã QR trên tem.",
                         "This request could not be understood. Scan the QR code on the stamp again."),
    "too_many": ("Quá nhiều yêu cầu", "Too many requests"),
    "too_many_text": ("Thiết bị hoặc mạng của bạn đã gửi quá nhiều yêu cầu. Hãy thử lại sau ít phút.",
                      "Your device or network has sent too many requests. Please try again in a few minutes."),
    "this_site": ("Trang xác thực", "Verifier"),
    "unavailable": ("Trang xác thực tạm thời chưa sẵn sàng", "The verifier is not available right now"),
    "unavailable_text": ("Hãy thử lại sau ít phút.", "Please try again in a few minutes."),
}

LEADS: dict[Result, tuple[str, str]] = {
    Result.GENUINE: ("Mã này do chủ thể dưới đây ký và phát hành cho đúng sản phẩm này.",
                     "This code was signed and issued by the producer below, for this product."),
    Result.GENUINE_WARNING: ("Tem do chủ thể ký thật, nhưng hãy lưu ý:", "The stamp was really signed by the producer, but note:"),
    Result.RECALLED: ("Không sử dụng sản phẩm này: chủ thể đã thu hồi lô hàng.",
                      "Do not use this product: the producer has recalled the batch."),
    Result.REVOKED_KEY: ("Không thể xác nhận tem này là chính hãng nữa; đừng tin những gì tem ghi.",
                         "This stamp can no longer be confirmed as genuine; do not rely on what it claims."),
    Result.UNKNOWN_ISSUER: ("Mã được ký bằng một khóa mà trang xác thực này không biết.",
                            "The code is signed by a key this verifier does not know."),
    Result.FORGED: ("Mã này không phải do chủ thể nào ký. Sản phẩm có thể là hàng giả.",
                    "No producer signed this code. The product may be counterfeit."),
    Result.NOT_A_STAMP: ("Đây không phải mã tem truy xuất nguồn gốc OCOP. Hãy quét lại mã QR trên tem.",
                         "This is not an OCOP traceability stamp code. Scan the QR code on the stamp again."),
    Result.UNKNOWN_BATCH: ("Chữ ký hợp lệ, nhưng trang này chưa có hồ sơ của lô hàng.",
                           "The signature is valid, but this verifier has no record of the batch yet."),
}

WARNING_LEADS: dict[str, tuple[str, str]] = {
    "possible_copy": ("Chữ ký trên tem là thật, nhưng tem đã được quét ở nhiều nơi khác nhau: có thể tem đã bị sao chép "
                      "sang sản phẩm khác.",
                      "The stamp's signature is real, but it has been scanned from many different places: it may have "
                      "been copied onto other products."),
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
