"""Real-browser helpers: a live server for an app, headless Chromium, axe-core.

Chromium and chromedriver come from Debian (`apt-get install chromium
chromium-driver`; `.ci/run` installs them). axe-core's script comes from the
selenium-axe-python package. Without a browser the browser tests skip, except
under CI, where they fail.
"""

import os
import shutil
import socket
from pathlib import Path

import pytest

from lms_plugin.server import Background

IMPACTS_THAT_FAIL = ("serious", "critical")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer(Background):
    """The app on the production server in a background thread, on a free port."""

    def __init__(self, app):
        super().__init__(app, host="127.0.0.1", port=0, threads=4)


def _need(what: str):
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required under CI")
    pytest.skip(f"{what} not available")


def make_browser():
    """Headless Chromium driven by chromedriver, sized like a laptop screen."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not binary or not driver_path:
        _need("Debian's chromium and chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,900",
        "--lang=en-US",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver_path), options=options)


def axe_script() -> str:
    try:
        import selenium_axe_python
    except ImportError:
        _need("selenium-axe-python (axe-core)")
    path = Path(selenium_axe_python.__file__).parent / "axe-core" / "axe.min.js"
    return path.read_text()


def axe_violations(driver, impacts=IMPACTS_THAT_FAIL) -> list[dict]:
    """Run axe-core (WCAG 2.x A and AA rules) on the current page."""
    driver.execute_script(axe_script())
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
        ".then(r => done(r.violations)).catch(e => done([{id: 'axe-error',"
        " impact: 'critical', description: String(e), nodes: []}]));"
    )
    return [v for v in result if v.get("impact") in impacts]


def describe(violations: list[dict]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v.get('help', v.get('description'))} "
        f"at {[n.get('target') for n in v.get('nodes', [])][:3]}"
        for v in violations
    )


#: Set on a page's window before an action; a new document does not have it.
_OLD_PAGE = "window.__lmsOldPage = true;"
_NEW_PAGE_READY = (
    "return window.__lmsOldPage === undefined && document.readyState === 'complete';"
)


def navigate(driver, action, timeout: float = 20) -> None:
    """Run ``action`` (a click, a key press) and wait for the next page to load.

    The current document is marked first, so the wait ends only once a new one
    (in the current frame) has fully loaded. Element staleness is not enough:
    during a navigation Chromium may answer "node does not belong to the
    document" instead of "stale", and a form post shows the old page until the
    redirect's target arrives.
    """
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.wait import WebDriverWait

    driver.execute_script(_OLD_PAGE)
    action()

    def loaded(d) -> bool:
        try:
            return bool(d.execute_script(_NEW_PAGE_READY))
        except WebDriverException:  # mid-navigation: ask again
            return False

    WebDriverWait(driver, timeout).until(loaded)


def wait(driver, timeout: float = 20):
    """A WebDriverWait that keeps polling through a navigation.

    While a page or frame navigates, Chromium answers element and script
    commands with "stale element", "no such element" or "node does not belong
    to the document" (a bare WebDriverException): none of these means the
    condition failed, only that it cannot be read yet.
    """
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.wait import WebDriverWait

    return WebDriverWait(driver, timeout, ignored_exceptions=(WebDriverException,))
