"""Misbehaving HTTP servers on 127.0.0.1 for the guarded client's tests, and a
name-resolution stub so that other addresses are tested without any traffic.

Each :class:`Misbehaving` server answers every path the same way (``mode``):
``json``, ``redirect``, ``drip`` (headers, then a body byte every ``drip_every``
seconds for ``drip_for`` seconds), ``big`` (``size`` bytes with a
Content-Length), ``endless`` (no Content-Length, bytes until the client hangs
up), ``status`` (``status`` with a short JSON error), ``html``. It counts the
connections it accepted, so a test can assert that nothing reached it.
"""

import ipaddress
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

#: A host name that exists only inside :class:`Resolver`.
STUB_HOST = "lms.example.test"


class Misbehaving:
    """A loopback HTTP server that answers in one chosen way."""

    def __init__(
        self, mode="json", *, drip_every=0.2, size=0, status=404, drip_for=10.0
    ):
        self.drip_for = drip_for  # then hang up: a broken client fails, not hangs
        self.mode, self.drip_every, self.size, self.status = (
            mode,
            drip_every,
            size,
            status,
        )
        self.requests = []
        self.connections = 0
        self._stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                server.connections += 1
                super().setup()

            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append((self.command, self.path, dict(self.headers)))
                getattr(server, f"_answer_{server.mode}")(self)

            do_POST = do_GET

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_port
        self.url = f"http://127.0.0.1:{self.port}/config"
        self.origin = f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    @staticmethod
    def _send(handler, status, body: bytes, headers=()):
        handler.send_response(status)
        for name, value in headers:
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _answer_json(self, handler):
        self._send(handler, 200, json.dumps({"keys": []}).encode())

    def _answer_html(self, handler):
        self._send(handler, 200, b"<html>login</html>")

    def _answer_status(self, handler):
        self._send(handler, self.status, b'{"error": "nope"}')

    def _answer_redirect(self, handler):
        location = ("Location", f"http://127.0.0.1:{self.port}/elsewhere")
        self._send(handler, 302, b"", [location])

    def _answer_big(self, handler):
        self._send(handler, 200, b" " * self.size)

    def _answer_drip(self, handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        self._trickle(handler, self.drip_every, until=time.monotonic() + self.drip_for)

    def _answer_endless(self, handler):
        handler.send_response(200)
        handler.send_header("Connection", "close")
        handler.end_headers()
        self._trickle(handler, 0, chunk=b" " * 65536, until=time.monotonic() + 30)

    def _trickle(self, handler, every, until, chunk=b" "):
        try:
            while not self._stop.is_set() and time.monotonic() < until:
                handler.wfile.write(chunk)
                handler.wfile.flush()
                time.sleep(every)
        except OSError:
            pass  # the client gave up, as it should


class Resolver:
    """``socket.getaddrinfo`` answering chosen addresses for :data:`STUB_HOST`.

    Other names resolve as usual. ``socket.create_connection`` is replaced too:
    to anything but loopback it records the address asked for and refuses, or,
    when ``forward_to`` names a loopback port, connects there instead (to see
    what happens after connecting). No traffic ever leaves the machine.
    """

    def __init__(self, monkeypatch, *addresses: str):
        self.addresses = list(addresses)
        self.lookups: list[str] = []
        self.connects: list[tuple] = []
        self.forward_to: int | None = None
        self._getaddrinfo = socket.getaddrinfo
        self._create_connection = socket.create_connection
        monkeypatch.setattr(socket, "getaddrinfo", self.getaddrinfo)
        monkeypatch.setattr(socket, "create_connection", self.create_connection)

    def getaddrinfo(self, host, port, *args, **kwargs):
        if host != STUB_HOST:
            return self._getaddrinfo(host, port, *args, **kwargs)
        self.lookups.append(host)
        answers = []
        for address in self.addresses:
            ip = ipaddress.ip_address(address)
            if ip.version == 4:
                answers.append(
                    (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
                )
            else:
                sockaddr = (address, port, 0, 0)
                answers.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", sockaddr))
        return answers

    def create_connection(self, address, *args, **kwargs):
        if ipaddress.ip_address(address[0]).is_loopback:
            return self._create_connection(address, *args, **kwargs)
        self.connects.append(address)
        if self.forward_to is None:
            raise ConnectionRefusedError("the test allows no connection here")
        return self._create_connection(("127.0.0.1", self.forward_to), *args, **kwargs)


class DrippingTls:
    """A TCP server that starts a TLS record and then sends one byte at a time.

    Every byte arrives well within any per-read timeout; only a deadline on the
    whole handshake ends the wait.
    """

    RECORD_HEADER = bytes([0x16, 0x03, 0x03, 0x40, 0x00])  # handshake, 16 KiB

    def __init__(self, every: float = 0.1, drip_for: float = 10.0):
        self.every, self.drip_for = every, drip_for
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()

    def __enter__(self):
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._listener.close()

    def _serve(self):
        try:
            connection, _ = self._listener.accept()
        except OSError:
            return
        with connection:
            until = time.monotonic() + self.drip_for
            try:
                connection.sendall(self.RECORD_HEADER)
                while not self._stop.is_set() and time.monotonic() < until:
                    connection.sendall(b"\x00")
                    time.sleep(self.every)
            except OSError:
                pass  # the client hung up, as it should
