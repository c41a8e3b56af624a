"""A real browser: headless Chromium opens the verifier's result pages, as a shopper's phone would.

The production server (``ocop-stamps serve``) runs over a fresh demo instance; Debian's ``chromium`` and
``chromium-driver`` drive a 360 px wide, Vietnamese-speaking browser through Selenium. The tests check the
visible verdict, the layout width and the console (a Content-Security-Policy mistake is logged there), and save
screenshots under ``build/screenshots/``.

Without Chromium the module is skipped, unless ``OCOP_REQUIRE_BROWSER=1`` (set by ``.ci/run``), in which case
it fails: CI can never skip the browser silently.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from stamps.demo import run_demo
from verify_server.background import start_verifier, stop_verifier

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
REPO_ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = REPO_ROOT / "build" / "screenshots"
PHONE_WIDTH, PHONE_HEIGHT, PHONE_PIXEL_RATIO = 360, 800, 2.0
MIN_SCREENSHOT_BYTES = 5 * 1024
PAGE_TIMEOUT_SECONDS = 15

MISSING = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
REQUIRED = os.environ.get("OCOP_REQUIRE_BROWSER") == "1"
MISSING_REASON = (f"headless Chromium not found ({', '.join(MISSING)} missing): "
                  "install it with 'sudo apt-get install chromium chromium-driver'")

pytestmark = pytest.mark.skipif(bool(MISSING) and not REQUIRED, reason=MISSING_REASON)


@dataclass(frozen=True)
class Verifier:
    """The running demo verifier: where it listens and the two stamp URLs the demo printed."""
    base_url: str
    genuine_url: str
    tampered_url: str


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def require_browser() -> None:
    """Fail (CI) when Chromium is missing; the module-level skip covers a developer machine."""
    if MISSING:
        pytest.fail(f"OCOP_REQUIRE_BROWSER=1 but {MISSING_REASON}", pytrace=False)


@pytest.fixture(scope="module")
def verifier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Verifier]:
    """A demo instance served by the production server on a free local port."""
    require_browser()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    demo = run_demo(tmp_path_factory.mktemp("browser") / "inst", base_url)
    child: subprocess.Popen[bytes] = start_verifier(demo.instance_root, "127.0.0.1", port, quiet=True)
    try:
        yield Verifier(base_url, demo.genuine_url, demo.tampered_url)
    finally:
        stop_verifier(child)


def chromium_options(profile: Path) -> webdriver.ChromeOptions:
    """Debian's Chromium, headless, phone-sized, Vietnamese, with nothing talking to the network by itself."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                     f"--window-size={PHONE_WIDTH},{PHONE_HEIGHT}", "--lang=vi"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": "vi,vi-VN"})
    # Headless Chromium will not make a window narrower than about 500 px; emulating the phone's screen
    # (with touch and the viewport meta tag honoured) is what gives the page a real 360 px viewport.
    options.add_experimental_option("mobileEmulation", {"deviceMetrics": {
        "width": PHONE_WIDTH, "height": PHONE_HEIGHT, "pixelRatio": PHONE_PIXEL_RATIO, "mobile": True, "touch": True}})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return options


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory, verifier: Verifier) -> Iterator[WebDriver]:
    """One headless Chromium for the module (its start is the slow part).

    It depends on *verifier* so that it quits first: an idle connection Chromium keeps open would otherwise
    hold a sync gunicorn worker and delay the server's graceful stop by seconds.
    """
    # An explicit chromedriver path: Selenium Manager never runs, so nothing is downloaded.
    driver = webdriver.Chrome(options=chromium_options(tmp_path_factory.mktemp("chromium-profile")),
                              service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(PAGE_TIMEOUT_SECONDS)
    try:
        yield driver
    finally:
        driver.quit()


def visible_heading(driver: WebDriver) -> str:
    heading = driver.find_element(By.TAG_NAME, "h1")
    assert heading.is_displayed()
    return str(heading.text)


def console_problems(driver: WebDriver) -> list[dict[str, Any]]:
    """Console entries since the last call that are errors or mention the Content Security Policy."""
    return [entry for entry in driver.get_log("browser")
            if entry.get("level") == "SEVERE" or "Content Security Policy" in str(entry.get("message", ""))]


def assert_fits_phone_width(driver: WebDriver) -> None:
    scroll_width, inner_width = driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth];")
    assert inner_width == PHONE_WIDTH, f"the viewport is {inner_width} px wide, not the phone's {PHONE_WIDTH} px"
    assert scroll_width <= inner_width, f"horizontal scrolling at {inner_width} px: content is {scroll_width} px wide"


def save_screenshot(driver: WebDriver, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    assert driver.save_screenshot(str(path)), f"Chromium did not write {path}"
    assert path.is_file() and path.stat().st_size > MIN_SCREENSHOT_BYTES, f"{path} is missing or nearly empty"
    return path


@pytest.mark.parametrize("url, heading, result", [
    ("genuine_url", "Tem chính hãng", "genuine"),  # as printed on the stamp: upper-case host and path
    ("tampered_url", "Tem giả", "forged"),
])
def test_stamp_page(browser: WebDriver, verifier: Verifier, url: str, heading: str, result: str) -> None:
    browser.get(getattr(verifier, url))
    assert visible_heading(browser) == heading
    assert browser.find_element(By.CSS_SELECTOR, "header.verdict").get_attribute("data-result") == result
    assert_fits_phone_width(browser)
    assert console_problems(browser) == []
    save_screenshot(browser, f"verifier-{result}-vi.png")


def test_language_switch_to_english(browser: WebDriver, verifier: Verifier) -> None:
    browser.get(verifier.genuine_url)
    switch = browser.find_element(By.CSS_SELECTOR, "nav.bar a")
    assert switch.is_displayed() and switch.text == "English"
    switch.click()
    WebDriverWait(browser, PAGE_TIMEOUT_SECONDS).until(lambda driver: visible_heading(driver) != "Tem chính hãng")
    assert visible_heading(browser) == "Genuine"
    assert console_problems(browser) == []
