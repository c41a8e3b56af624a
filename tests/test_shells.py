"""Page shells: rendered once, filled per unit, escaped, and never confused by the page's own text."""

from __future__ import annotations

import pytest

from verify_server.shells import PageShells


def render_with(body: str):  # noqa: ANN201 - a small factory of render functions
    calls: list[tuple[str, ...]] = []

    def render(markers: tuple[str, ...]) -> str:
        calls.append(markers)
        return body.format(*markers)

    return render, calls


def test_a_shell_is_rendered_once_and_filled_with_escaped_values() -> None:
    shells = PageShells()
    render, calls = render_with("<p>{0}</p><dd>{1}</dd>")
    assert shells.page("k", ["first scan", "7"], render) == "<p>first scan</p><dd>7</dd>".encode()
    assert shells.page("k", ["<b>&", "8"], render) == "<p>&lt;b&gt;&amp;</p><dd>8</dd>".encode()
    assert len(calls) == 1


def test_text_that_looks_like_a_marker_stays_text() -> None:
    shells = PageShells()
    forged_marker = "\x00" + "0" * 16 + ":0\x00"
    render, _ = render_with("<h1>" + forged_marker.replace("{", "{{") + "</h1><dd>{0}</dd>")
    assert shells.page("k", ["12"], render) == ("<h1>" + forged_marker + "</h1><dd>12</dd>").encode()


def test_a_template_that_drops_a_marker_is_refused() -> None:
    render, _ = render_with("<dd>{0}</dd>")
    with pytest.raises(ValueError, match="markers"):
        PageShells().page("k", ["1", "2"], render)


def test_the_cache_is_bounded() -> None:
    shells = PageShells(max_shells=2)
    render, calls = render_with("{0}")
    for key in ("a", "b", "c", "a"):
        shells.page(key, ["x"], render)
    assert len(calls) == 4
