"""Shared by the benchmarks: loopback ports, a scratch PostgreSQL, server processes.

Imported as ``_server`` by scripts run as ``python bench/<name>.py``.
"""

import argparse
import os
import socket
import subprocess
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """The options every tool-beside-bare-Flask benchmark takes."""
    parser.add_argument("--clients", type=int, default=4, help="client threads")
    parser.add_argument("--threads", type=int, default=8, help="server worker threads")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("LMS_PLUGIN_BENCH_POSTGRES_URL"),
        help="PostgreSQL database to empty and use (skipped when unset)",
    )
    parser.add_argument(  # how the benchmark starts its bare Flask server
        "--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reset_postgres(url: str) -> None:
    """Empty the benchmark PostgreSQL database."""
    import psycopg

    conn = psycopg.connect(url, connect_timeout=3, autocommit=True)
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    conn.close()


def start_server(command: list[str], env: dict, base: str, probe: str, log: Path):
    """Start ``command`` (a server) and wait until ``base + probe`` answers.

    Its stderr goes to ``log`` (a file, so a chatty server never blocks on a pipe).
    """
    handle = open(log, "w")
    proc = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=handle, text=True
    )
    proc.log_handle = handle
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{command} exited; see {log}")
        try:
            requests.get(base + probe, timeout=2)
            return proc
        except requests.ConnectionError:
            time.sleep(0.2)
    stop(proc)
    raise RuntimeError(f"{command} did not start within 30 s; see {log}")


def stop(proc) -> None:
    """Stop a server started by :func:`start_server`."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.log_handle.close()
