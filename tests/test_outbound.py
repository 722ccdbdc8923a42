"""The guarded HTTP client (lms_plugin.outbound): where it connects, how it gives up.

Addresses other than loopback are tested with name resolution stubbed, and the
refusal must come before any connection; the only real targets are loopback
servers these tests start.
"""

import ast
import socket
import ssl
import threading
import time
from pathlib import Path

import pytest

from lms_plugin import outbound
from lms_plugin.outbound import addresses
from tests.outbound_servers import STUB_HOST
from tests.outbound_servers import DrippingTls
from tests.outbound_servers import Misbehaving
from tests.outbound_servers import Resolver

PACKAGE = Path(__file__).resolve().parent.parent / "lms_plugin"
LOOPBACK = outbound.Policy(allow_loopback=True)
BEARER = {"Authorization": "Bearer registration-token"}


def _client(policy=LOOPBACK, **limits) -> outbound.Client:
    return outbound.Client(policy, user_agent="lms_plugin tests", **limits)


def _failure(url, policy=LOOPBACK, **limits) -> outbound.OutboundError:
    with _client(policy, **limits) as http, pytest.raises(outbound.OutboundError) as e:
        http.get(url, headers=BEARER)
    return e.value


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.9", "private"),
        ("192.168.1.20", "private"),
        ("fd12:3456::1", "private"),  # IPv6 unique local
        ("169.254.169.254", "cloud metadata"),
        ("169.254.10.10", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "private"),  # reserved; Python files it under private too
        ("100.64.0.1", "not a public address"),  # CGNAT
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "cloud metadata"),
        ("2002:a00:1::1", "inside"),  # 6to4 of 10.0.0.1
        ("64:ff9b::a9fe:a9fe", "inside"),  # NAT64 of 169.254.169.254
    ],
)
def test_refuses_before_any_connection(monkeypatch, address, why):
    resolver = Resolver(monkeypatch, address)
    error = _failure(f"https://{STUB_HOST}/config", outbound.Policy())
    assert error.kind == outbound.REFUSED and why in error.reason
    assert resolver.lookups == [STUB_HOST]
    assert resolver.connects == []  # the Bearer token went nowhere


def test_one_private_address_among_public_ones_refuses_the_host(monkeypatch):
    resolver = Resolver(monkeypatch, "93.184.216.34", "10.0.0.7")
    error = _failure(f"https://{STUB_HOST}/config", outbound.Policy())
    assert error.kind == outbound.REFUSED and "10.0.0.7" in error.reason
    assert resolver.connects == []


def test_loopback_is_refused_unless_allowed():
    with Misbehaving("json") as server:
        error = _failure(server.url, outbound.Policy(allow_loopback=False))
        assert error.kind == outbound.REFUSED
        assert server.connections == 0
        with _client() as http:
            assert http.get(server.url).json() == {"keys": []}


def test_plain_http_goes_only_to_loopback(monkeypatch):
    resolver = Resolver(monkeypatch, "93.184.216.34")
    error = _failure(f"http://{STUB_HOST}/config")
    assert error.kind == outbound.REFUSED and "plain http" in error.reason
    assert resolver.connects == []


def test_other_schemes_are_refused():
    assert _failure("ftp://127.0.0.1/config").kind == outbound.REFUSED


def test_an_allowed_network_lets_an_on_premises_lms_through(monkeypatch):
    resolver = Resolver(monkeypatch, "10.20.0.5")
    policy = outbound.Policy(allowed_networks=outbound.parse_networks("10.20.0.0/16"))
    error = _failure(f"https://{STUB_HOST}/config", policy)
    # Past the guard: the stub refuses the connection itself.
    assert error.kind == outbound.UNREACHABLE
    assert resolver.connects == [("10.20.0.5", 443)]


@pytest.mark.parametrize("address", ["169.254.169.254", "fd00:ec2::254"])
def test_no_allow_list_opens_a_cloud_metadata_service(monkeypatch, address):
    resolver = Resolver(monkeypatch, address)
    broad = outbound.parse_networks("169.254.0.0/16, ::/0")
    error = _failure(
        f"https://{STUB_HOST}/latest", outbound.Policy(allowed_networks=broad)
    )
    assert error.kind == outbound.REFUSED and "metadata" in error.reason
    assert resolver.connects == []


def test_connects_to_the_checked_address_with_the_name_for_tls(monkeypatch):
    """One lookup, the connection to its answer (no rebinding), SNI by name."""
    resolver = Resolver(monkeypatch, "93.184.216.34")
    hostnames = []

    def wrap_socket(context, sock, server_hostname=None, **kwargs):
        hostnames.append(server_hostname)
        raise ssl.SSLError("the test stops at the handshake")

    monkeypatch.setattr(ssl.SSLContext, "wrap_socket", wrap_socket)
    with Misbehaving("json") as server:
        resolver.forward_to = server.port
        resolver.addresses = ["93.184.216.34"]
        error = _failure(f"https://{STUB_HOST}:8443/config", outbound.Policy())
        resolver.addresses = ["127.0.0.1"]  # a rebinding answer, never asked for
    assert error.kind == outbound.UNREACHABLE
    assert resolver.lookups == [STUB_HOST]
    assert resolver.connects == [("93.184.216.34", 8443)]
    assert hostnames == [STUB_HOST]


def test_each_checked_address_is_tried_in_turn(monkeypatch):
    resolver = Resolver(monkeypatch, "93.184.216.34", "2606:2800:220:1::1")
    error = _failure(f"https://{STUB_HOST}/config", outbound.Policy())
    assert error.kind == outbound.UNREACHABLE
    assert resolver.connects == [("93.184.216.34", 443), ("2606:2800:220:1::1", 443)]


def test_a_redirect_is_not_followed():
    with Misbehaving("redirect") as server:
        error = _failure(server.url)
    assert error.kind == outbound.REDIRECT and "302" in error.reason
    assert [path for _, path, _ in server.requests] == ["/config"]


def test_a_slow_drip_is_given_up_at_the_deadline():
    with Misbehaving("drip", drip_every=0.1) as server:
        started = time.monotonic()
        error = _failure(server.url, deadline=1.0)
        elapsed = time.monotonic() - started
    assert error.kind == outbound.TIMEOUT
    assert 0.9 <= elapsed < 2.5  # each byte came within any per-read timeout


def test_a_dripping_tls_handshake_is_given_up_at_the_deadline(monkeypatch):
    resolver = Resolver(monkeypatch, "93.184.216.34")
    with DrippingTls() as server:
        resolver.forward_to = server.port
        started = time.monotonic()
        error = _failure(f"https://{STUB_HOST}/config", outbound.Policy(), deadline=1)
        elapsed = time.monotonic() - started
    assert error.kind in (outbound.TIMEOUT, outbound.UNREACHABLE)
    assert 0.9 <= elapsed < 2.5


def test_a_slow_name_server_is_given_up_at_the_deadline(monkeypatch):
    resolver = Resolver(monkeypatch, "93.184.216.34")
    answer = resolver.getaddrinfo
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda *a, **k: time.sleep(3) or answer(*a, **k)
    )
    started = time.monotonic()
    error = _failure(f"https://{STUB_HOST}/config", outbound.Policy(), deadline=1)
    assert error.kind == outbound.TIMEOUT and "resolve" in error.reason
    assert time.monotonic() - started < 2
    assert resolver.connects == []


def test_lookups_stuck_on_a_hanging_name_server_are_bounded(monkeypatch):
    """Each stuck lookup keeps a thread; past MAX_LOOKUPS the next fails at once."""
    Resolver(monkeypatch, "93.184.216.34")
    release = threading.Event()
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: release.wait(10) and [])
    slots = threading.BoundedSemaphore(2)
    monkeypatch.setattr(addresses, "_LOOKUPS", slots)
    monkeypatch.setattr(addresses, "MAX_LOOKUPS", 2)
    try:
        for _ in range(2):
            error = _failure(f"https://{STUB_HOST}/", outbound.Policy(), deadline=0.2)
            assert "did not resolve" in error.reason
        started = time.monotonic()
        error = _failure(f"https://{STUB_HOST}/", outbound.Policy(), deadline=5)
        assert "2 name lookups in flight" in error.reason
        assert time.monotonic() - started < 1
    finally:
        release.set()
    for _ in range(2):  # the stuck lookups end and give their slots back
        assert slots.acquire(timeout=5)


@pytest.mark.parametrize("mode", ["big", "endless"])
def test_the_answer_is_read_only_up_to_the_cap(mode):
    with Misbehaving(mode, size=200_001) as server:
        started = time.monotonic()
        error = _failure(server.url, max_bytes=200_000, deadline=10)
    assert error.kind == outbound.TOO_LARGE
    assert time.monotonic() - started < 5


def test_an_answer_within_the_cap_is_read_whole():
    with Misbehaving("big", size=200_000) as server, _client() as http:
        answer = http.get(server.url)
    assert answer.status_code == 200 and len(answer.content) == 200_000


def test_json_answers_are_depth_limited():
    with Misbehaving("json") as server, _client() as http:
        answer = http.get(server.url)
    answer.content = b"[" * 5000 + b"]" * 5000
    with pytest.raises(ValueError, match="deeper"):
        answer.json()


def test_slots_refuse_the_extra_request_at_once():
    slots = threading.BoundedSemaphore(1)
    outcomes = []
    with Misbehaving("drip", drip_every=0.1) as server:
        first = threading.Thread(target=_slow_get, args=(server.url, slots, outcomes))
        first.start()
        time.sleep(0.3)  # the first request holds the only slot
        started = time.monotonic()
        with pytest.raises(outbound.OutboundBusy) as busy:
            _slow_get(server.url, slots)
        assert time.monotonic() - started < 0.5
        first.join()
        assert server.connections == 1
    assert [type(outcome) for outcome in outcomes] == [outbound.OutboundError]
    assert busy.value.status_code == 503
    assert slots.acquire(blocking=False)  # the slot came back


def _slow_get(url, slots, outcomes=None):
    with _client(deadline=1.5, slots=slots) as http:
        try:
            http.get(url)
        except outbound.OutboundError as error:
            if outcomes is None:
                raise
            outcomes.append(error)


def test_every_failure_has_the_same_message(monkeypatch):
    Resolver(monkeypatch, "10.0.0.1")
    failures = [_failure(f"https://{STUB_HOST}/config", outbound.Policy())]
    with Misbehaving("redirect") as server:
        failures.append(_failure(server.url))
    with Misbehaving("drip") as server:
        failures.append(_failure(server.url, deadline=0.5))
    with Misbehaving("big", size=2000) as server:
        failures.append(_failure(server.url, max_bytes=1000))
    failures.append(_failure(server.url))  # stopped: connection refused
    kinds = [failure.kind for failure in failures]
    assert kinds == ["refused", "redirect", "timeout", "too_large", "unreachable"]
    assert {(f.message, f.title, f.status_code, f.detail) for f in failures} == {
        (outbound.NEUTRAL_MESSAGE, "No usable answer", 502, None)
    }


def test_policy_follows_the_settings(make_app):
    app = make_app(TESTING=False, OUTBOUND_ALLOWED_NETWORKS="10.0.0.0/8, fd00::/8")
    policy = outbound.Policy.from_app(app)
    assert policy.allow_loopback is False
    assert [str(net) for net in policy.allowed_networks] == ["10.0.0.0/8", "fd00::/8"]
    assert outbound.Policy.from_app(make_app()).allow_loopback  # testing


def test_a_bad_allowed_network_stops_the_app_at_start(make_app):
    with pytest.raises(ValueError):
        make_app(OUTBOUND_ALLOWED_NETWORKS=["10.0.0.0/33"])


#: Modules that speak HTTP (or open sockets to speak it) and may only be used
#: by the outbound package.
HTTP_MODULES = {"requests", "httpx", "httpcore", "urllib3", "aiohttp", "pycurl"}
HTTP_SUBMODULES = {"http.client", "urllib.request"}


def _imports(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def test_only_outbound_imports_an_http_library():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.parent == PACKAGE / "outbound":
            continue
        tree = ast.parse(path.read_text(), str(path))
        for name in _imports(tree):
            if name.split(".")[0] in HTTP_MODULES or any(
                name == sub or name.startswith(sub + ".") for sub in HTTP_SUBMODULES
            ):
                offenders.append(f"{path.relative_to(PACKAGE)}: {name}")
        source = path.read_text()
        for call in ("socket.create_connection", "socket.socket(", ".connect(("):
            if call in source:
                offenders.append(f"{path.relative_to(PACKAGE)}: {call}")
    assert offenders == []


@pytest.mark.parametrize("declared", ["²", "٣", "9" * 5000])
def test_an_odd_content_length_never_escapes_as_an_error(declared):
    """h11 refuses such headers today; the cap must not rely on that."""
    import httpx

    raw = [(b"Content-Length", declared.encode())]  # as bytes off the wire
    answer = httpx.Response(200, headers=raw, stream=httpx.ByteStream(b"{}"))
    client = outbound.Client(outbound.Policy(), user_agent="t", max_bytes=10)
    if declared.isascii():
        with pytest.raises(outbound.OutboundError, match="Content-Length"):
            client._read(answer)
    else:
        assert client._read(answer) == b"{}"
