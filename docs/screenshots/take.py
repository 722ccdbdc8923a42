"""Retake docs/screenshots/module-page.png: a module page inside the demo LMS.

Starts ``lms-plugin demo`` on a free loopback port with a throwaway instance
folder, signs in to the demo as a learner, opens the tool from course navigation,
opens the first module and saves a screenshot. Needs the test extra (selenium)
and Debian's chromium and chromium-driver. From the repository root:

    .venv/bin/python docs/screenshots/take.py
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select
from selenium.webdriver.support.ui import WebDriverWait

OUT = Path(__file__).resolve().parent / "module-page.png"
LEARNER = "Jordan Lindqvist (Learner)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_demo(instance: str) -> tuple[subprocess.Popen, str]:
    """``lms-plugin demo`` in the background, and the URL it prints."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_PLUGIN_")}
    env.pop("DATABASE_URL", None)
    env["LMS_PLUGIN_INSTANCE_PATH"] = instance
    command = [sys.executable, "-m", "lms_plugin", "demo", "--port", str(free_port())]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # printed once registered and listening
    found = re.search(r"http://\S+", line)
    if not found:
        proc.terminate()
        raise SystemExit(f"lms-plugin demo printed no URL: {line!r}")
    return proc, found[0]


def browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in ("--headless=new", "--no-sandbox", "--window-size=1100,900"):
        options.add_argument(flag)
    return webdriver.Chrome(
        service=Service(shutil.which("chromedriver")), options=options
    )


def module_page(driver, url: str) -> None:
    """As a learner: course navigation, then the first module, inside the frame."""
    wait = WebDriverWait(driver, 30)
    driver.get(url)
    Select(driver.find_element(By.ID, "pick-user")).select_by_visible_text(LEARNER)
    driver.find_element(By.CSS_SELECTOR, ".demo-inline-form button").click()
    wait.until(
        expected_conditions.text_to_be_present_in_element(
            (By.CSS_SELECTOR, ".demo-panel .lead"), LEARNER.split(" (")[0]
        )
    )
    driver.find_element(By.PARTIAL_LINK_TEXT, "from course navigation").click()
    wait.until(expected_conditions.frame_to_be_available_and_switch_to_it("tool-frame"))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "main a[href*='/modules/']"))
    driver.find_element(By.CSS_SELECTOR, "main a[href*='/modules/']").click()
    wait.until(lambda d: d.find_elements(By.ID, "module-title"))
    driver.switch_to.default_content()


def main() -> None:
    with tempfile.TemporaryDirectory() as instance:
        proc, url = start_demo(instance)
        driver = browser()
        try:
            module_page(driver, url)
            frame = driver.find_element(By.ID, "tool-frame")
            driver.execute_script("arguments[0].scrollIntoView()", frame)
            frame.screenshot(str(OUT))
        finally:
            driver.quit()
            proc.terminate()
            proc.wait(timeout=10)
    print(f"{OUT} ({OUT.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
