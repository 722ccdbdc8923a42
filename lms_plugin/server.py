"""The production WSGI server, in one place: cheroot, CherryPy's HTTP server.

``lms-plugin serve`` and ``lms-plugin demo`` run the tool with :func:`serve`;
the browser tests and the benchmarks start it on a free port with
:class:`Background` (the benchmarks' bare Flask baseline too, so both sides
run on the same server with the same settings). One pool of worker threads per
process; more processes, on one host or many, scale it out
(``docs/deployment.md``).

Why not waitress, the server until November 2026: while a worker thread sends
a response it holds the connection's output lock, and waitress's main thread
meanwhile spins through ``select`` (the socket is writable, the lock is taken).
Under four concurrent clients on two cores that loop turned 120–190 times per
module page and burned more CPU than the page itself, halving the tool's
throughput (``docs/benchmarks.md``). cheroot's worker threads write their own
responses, and its main thread waits only for new requests.
"""

import signal
import threading

from cheroot import wsgi

#: What the ``Server`` response header says (never the host's name).
SERVER_NAME = "lms_plugin"
#: Pending connections the listening socket queues.
BACKLOG = 1024
#: The largest request head and body accepted (a launch or a form is a few
#: kilobytes; a registration document a few more); beyond them, 413 or 414.
MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 8 * 1024 * 1024


def make_server(app, host: str, port: int, threads: int) -> wsgi.Server:
    """A server for ``app`` on ``host:port`` with ``threads`` worker threads."""
    server = wsgi.Server(
        (host, port),
        app,
        numthreads=threads,
        max=threads,
        server_name=SERVER_NAME,
        request_queue_size=BACKLOG,
    )
    server.max_request_header_size = MAX_HEADER_BYTES
    server.max_request_body_size = MAX_BODY_BYTES
    return server


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def serve(app, host: str = "127.0.0.1", port: int = 5000, threads: int = 8) -> None:
    """Serve ``app`` until Ctrl-C or SIGTERM, then finish and stop cleanly.

    SIGTERM is handled only when called from the main thread (Python allows
    signal handlers nowhere else).
    """
    server = make_server(app, host, port, threads)
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if main else None
    try:
        server.start()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        if main:
            signal.signal(signal.SIGTERM, previous)


class Background:
    """``app`` served from a background thread, for tests and benchmarks.

    ``port=0`` takes a free port; :attr:`url` says where it listens. Use as a
    context manager: the server stops on exit.
    """

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, threads=4):
        self.server = make_server(app, host, port, threads)
        self.server.prepare()  # binds now, so the port is known
        self.port = self.server.bind_addr[1]
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self.server.serve, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.stop()
        self._thread.join(timeout=10)
