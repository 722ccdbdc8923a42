"""Fixtures for the demo LMS tests: a demo-mode app and the tool's JWKS server."""

import pytest

from tests.demo.support import JwksServer
from tests.demo.support import TestKey
from tests.demo.support import close_databases
from tests.demo.support import current_registration
from tests.demo.support import make_demo_app


@pytest.fixture
def demo_app(tmp_path):
    app = make_demo_app(tmp_path)
    yield app
    close_databases()


@pytest.fixture
def demo_client(demo_app):
    return demo_app.test_client()


@pytest.fixture(scope="session")
def tool_key():
    return TestKey("tool-key-1")


@pytest.fixture
def tool_jwks(demo_client, tool_key):
    """A JWKS server for the tool key, set as the registered tool's key set URL."""
    with JwksServer([tool_key]) as server:
        registration = current_registration(demo_client)
        registration.tool_jwks_url = server.url
        registration.save()
        yield server
