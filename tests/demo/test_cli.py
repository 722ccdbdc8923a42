"""`lms-plugin demo` starts the tool and the demo LMS and prints one URL."""

import os
import re
import subprocess
import sys

import pytest
import requests

from tests.browser import free_port


@pytest.mark.slow
def test_demo_command_prints_one_url_that_answers(tmp_path):
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "DATABASE_URL" and not key.startswith("LMS_PLUGIN_")
    }
    env["LMS_PLUGIN_INSTANCE_PATH"] = str(tmp_path / "instance")
    proc = subprocess.Popen(
        [sys.executable, "-m", "lms_plugin", "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        urls = re.findall(r"https?://\S+", line)
        assert urls == [f"http://127.0.0.1:{port}/demo/"], line
        page = requests.get(urls[0], timeout=10)
        assert page.status_code == 200
        assert "Professional Practice for Clinical Trainees" in page.text
        config = requests.get(
            f"{urls[0]}.well-known/openid-configuration", timeout=10
        ).json()
        assert config["issuer"] == f"http://127.0.0.1:{port}/demo"
        assert (tmp_path / "instance" / "demo.sqlite3").exists()
        assert (tmp_path / "instance" / "lms_plugin.sqlite3").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
