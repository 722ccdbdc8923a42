"""The guarded client where strangers and platforms meet it: Dynamic Registration
pages, the live server's threads, platform key sets, and AGS retries.

The misbehaving platforms are loopback servers these tests start, put on
``LTI_REGISTRATION_ALLOWED_ISSUERS`` so that the registration page fetches them;
other addresses are reached only through stubbed name resolution.
"""

import contextlib
import socket
import threading
import time
from types import SimpleNamespace

import pytest
import requests

from lms_plugin import outbound
from lms_plugin.db import database
from lms_plugin.lti.launch.adapter import ToolMessageLaunch
from lms_plugin.lti.registration.platform_keys import PlatformKeyError
from lms_plugin.lti.registration.platform_keys import fetch_key_set
from lms_plugin.lti.services.ags import AgsClient
from lms_plugin.lti.services.ags import AgsError
from lms_plugin.lti.services.connector import ToolServiceConnector
from tests.browser import LiveServer
from tests.outbound_servers import STUB_HOST
from tests.outbound_servers import Misbehaving
from tests.outbound_servers import Resolver

STUB_URL = f"https://{STUB_HOST}/mod/lti/openid-configuration.php"


def _register_page(client, url: str):
    return client.get(
        "/lti/register",
        query_string={"openid_configuration": url, "registration_token": "reg-1"},
    )


def test_the_page_is_the_same_for_every_kind_of_failure(make_app, monkeypatch):
    resolver = Resolver(monkeypatch, "10.0.0.1")
    with contextlib.ExitStack() as stack:
        servers = [
            stack.enter_context(server)
            for server in (
                Misbehaving("redirect"),
                Misbehaving("drip"),
                Misbehaving("status", status=404),
                Misbehaving("html"),
                Misbehaving("big", size=1_000_001),
            )
        ]
        urls = [STUB_URL, f"http://127.0.0.1:{_closed_port()}/config"]
        urls += [server.url for server in servers]
        app = make_app(
            OUTBOUND_DEADLINE=1,
            LTI_REGISTRATION_ALLOWED_ISSUERS=[url.rsplit("/", 1)[0] for url in urls],
        )
        pages = [_register_page(app.test_client(), url) for url in urls]
    assert [page.status_code for page in pages] == [502] * len(urls)
    assert len({page.get_data() for page in pages}) == 1
    assert outbound.NEUTRAL_MESSAGE.split(";")[0] in pages[0].text
    assert resolver.connects == []  # the Bearer token never left for 10.0.0.1
    assert all(len(server.requests) == 1 for server in servers)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_slow_platform_cannot_take_the_server_threads(make_app):
    """Registrations against a dripping platform: two wait out the deadline,
    the rest are told at once to try again, and /healthz answers meanwhile."""
    deadline = 2.0
    with Misbehaving("drip", drip_every=0.1) as drip:
        app = make_app(
            OUTBOUND_DEADLINE=deadline,
            OUTBOUND_REGISTRATION_CONCURRENCY=2,
            LTI_REGISTRATION_ALLOWED_ISSUERS=[drip.origin],
        )
        with LiveServer(app) as live:
            results = _concurrent_registrations(live.url, drip.url, count=6)
            health, health_seconds = results.pop("healthz")
    statuses = sorted(status for status, _ in results.values())
    assert statuses == [502, 502, 503, 503, 503, 503]
    for status, seconds in results.values():
        assert seconds < (deadline + 2 if status == 502 else 1.5)
    assert health == 200 and health_seconds < 1.5
    assert drip.connections == 2


def _concurrent_registrations(base: str, url: str, count: int) -> dict:
    results = {}

    def fetch(name, path, params=None):
        started = time.monotonic()
        answer = requests.get(base + path, params=params, timeout=30)
        results[name] = (answer.status_code, time.monotonic() - started)

    query = {"openid_configuration": url, "registration_token": "reg-1"}
    threads = [
        threading.Thread(target=fetch, args=(n, "/lti/register", query))
        for n in range(count)
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # the slots are taken
    fetch("healthz", "/healthz")
    for thread in threads:
        thread.join()
    return results


def test_busy_is_a_clear_503(make_app):
    app = make_app(LTI_REGISTRATION_ALLOWED_ISSUERS=["http://127.0.0.1:9"])
    slots = app.extensions["lms_plugin.outbound"]["registration_slots"]
    while slots.acquire(blocking=False):
        pass  # every slot taken, as by slow registrations
    response = _register_page(app.test_client(), "http://127.0.0.1:9/config")
    assert response.status_code == 503
    assert "busy" in response.text and "Try again" in response.text


def test_a_platform_key_set_on_a_private_address_is_not_fetched(app, monkeypatch):
    resolver = Resolver(monkeypatch, "192.168.0.10")
    with app.app_context(), database.connection_context():
        with pytest.raises(PlatformKeyError):
            fetch_key_set(f"https://{STUB_HOST}/jwks")
        # pylti1p3's own fetch, never used by our launch, is guarded all the same.
        launch = ToolMessageLaunch.__new__(ToolMessageLaunch)
        with pytest.raises(PlatformKeyError):
            launch.fetch_public_key(f"https://{STUB_HOST}/jwks")
    assert resolver.lookups == [STUB_HOST, STUB_HOST] and resolver.connects == []


def test_a_platform_key_set_is_read_through_the_client(app):
    with Misbehaving("json") as server, app.app_context():
        with database.connection_context():
            assert fetch_key_set(server.url) == {"keys": []}
    assert server.requests[0][2]["User-Agent"].startswith("lms_plugin")


def test_pylti1p3_is_handed_the_guarded_client_as_its_session(app):
    connector = ToolServiceConnector(SimpleNamespace())  # no app needed yet
    with app.app_context():
        assert isinstance(connector._requests_session, outbound.Client)
        assert connector._requests_session is connector.http


@pytest.mark.parametrize(
    ("kind", "retryable"),
    [
        (outbound.TIMEOUT, True),
        (outbound.UNREACHABLE, True),
        (outbound.FAILED, True),
        (outbound.REFUSED, False),
        (outbound.REDIRECT, False),
        (outbound.TOO_LARGE, False),
    ],
)
def test_ags_retries_outages_but_not_what_the_guard_refuses(kind, retryable):
    def send(*args, **kwargs):
        raise outbound.OutboundError(kind, "10.0.0.1:8080 said something")

    client = AgsClient.__new__(AgsClient)
    client.connector = SimpleNamespace(send=send)
    with pytest.raises(AgsError) as raised:
        client.post_score("https://lms.example.edu/lineitems/1", {}, [])
    assert raised.value.retryable is retryable
    assert "10.0.0.1" not in raised.value.reason  # addresses stay in the log
