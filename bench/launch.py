"""Benchmark: full LTI 1.3 OIDC login + launch cycles per second (production server).

For each database (SQLite, PostgreSQL) it starts the tool with
``python -m lms_plugin serve`` in a subprocess, registers a benchmark platform
with ``lms-plugin platform add``, and drives complete cycles over loopback HTTP:

    POST /lti/login  (iss, login_hint, client_id, …)  -> 302 to the platform
    POST /lti/launch (id_token signed RS256 for that state and nonce) -> 303

Beside it, in the same run and on the same server settings, a bare Flask app
(this file, ``--serve-bare``) answers the same two requests without any LTI work,
so the ratio shows what the LTI checks and database writes cost. The client does
the same work for both (it signs an id_token per cycle).

The platform's JWKS is served by this script; it counts the fetches. The tool
must fetch it once per run, not once per launch.

    python bench/launch.py --cycles 400 --clients 4 \\
        --postgres-url postgresql://postgres@127.0.0.1:5432/bench

The PostgreSQL database is emptied first. Everything listens on 127.0.0.1.
"""

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

import jwt
import requests
from _server import add_server_options
from _server import free_port
from _server import reset_postgres
from _server import start_server
from _server import stop
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parent.parent
ISSUER = "https://platform.bench.example"
CLIENT_ID = "bench-client"
DEPLOYMENT_ID = "bench-deployment"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
USERS = 200  # distinct learners cycled through
CONTEXTS = 10  # distinct courses
WARMUP = 40  # cycles per target before timing (first launches create rows)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Platform:
    """The benchmark LMS: an RSA key, its JWKS, and id_tokens for a nonce."""

    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "bench-" + uuid.uuid4().hex[:8]
        numbers = self.key.public_key().public_numbers()
        self.jwks = {
            "keys": [
                {
                    "kty": "RSA",
                    "alg": "RS256",
                    "use": "sig",
                    "kid": self.kid,
                    "n": _b64(numbers.n),
                    "e": _b64(numbers.e),
                }
            ]
        }

    def id_token(self, nonce: str, target: str, cycle: int) -> str:
        """A resource-link launch for learner ``cycle % USERS``."""
        now = int(time.time())
        user, course = cycle % USERS, cycle % CONTEXTS
        claims = {
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "azp": CLIENT_ID,
            "sub": f"user-{user}",
            "iat": now,
            "exp": now + 60,
            "nonce": nonce,
            "name": f"Learner {user}",
            "email": f"learner{user}@bench.example",
            LTI + "message_type": "LtiResourceLinkRequest",
            LTI + "version": "1.3.0",
            LTI + "deployment_id": DEPLOYMENT_ID,
            LTI + "target_link_uri": target,
            LTI + "roles": [LEARNER],
            LTI + "context": {"id": f"course-{course}", "title": f"Course {course}"},
            LTI + "resource_link": {"id": f"link-{course}", "title": "Module 1"},
        }
        return jwt.encode(
            claims, self.key, algorithm="RS256", headers={"kid": self.kid}
        )


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class JwksServer:
    """Serves the platform JWKS on 127.0.0.1 and counts requests for it."""

    def __init__(self, jwks: dict):
        body = json.dumps(jwks).encode()
        counter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                counter.fetches += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.fetches = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/jwks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def tool_env(database_url: str, instance: Path) -> dict:
    return dict(
        os.environ,
        DATABASE_URL=database_url,
        LMS_PLUGIN_INSTANCE_PATH=str(instance),
        LMS_PLUGIN_SECRET_KEY="bench-secret-" + uuid.uuid4().hex,
        LMS_PLUGIN_LTI_ALLOW_HTTP_LOCALHOST="true",
    )


def register_platform(env: dict, jwks_url: str) -> None:
    """Add the benchmark platform through the tool's own CLI."""
    command = [sys.executable, "-m", "lms_plugin", "platform", "add"]
    command += ["--issuer", ISSUER, "--client-id", CLIENT_ID]
    command += ["--deployment-id", DEPLOYMENT_ID, "--key-set-url", jwks_url]
    command += ["--auth-login-url", f"{ISSUER}/auth"]
    command += ["--auth-token-url", f"{ISSUER}/token", "--family", "other"]
    subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True)


def _cookie_header(response) -> str:
    # Sent by hand: the client is not a browser and the tool is on plain http.
    return "; ".join(f"{c.name}={c.value}" for c in response.cookies)


def _form(fields: dict) -> bytes:
    # Bytes, so http.client sends headers and body in one write (no Nagle stall).
    return urlencode(fields).encode()


def cycle(http: requests.Session, base: str, platform: Platform, n: int) -> None:
    """One OIDC login + launch; raise unless both steps succeed."""
    target = f"{base}/lti/launch"
    login = http.post(
        f"{base}/lti/login",
        data=_form(
            {
                "iss": ISSUER,
                "login_hint": f"user-{n % USERS}",
                "target_link_uri": target,
                "client_id": CLIENT_ID,
                "lti_deployment_id": DEPLOYMENT_ID,
                "lti_message_hint": f"link-{n % CONTEXTS}",
            }
        ),
        headers=FORM,
        allow_redirects=False,
        timeout=30,
    )
    if login.status_code != 302:
        raise RuntimeError(f"login answered {login.status_code}: {login.text[:300]}")
    query = parse_qs(urlsplit(login.headers["Location"]).query)
    redirect_uri = query["redirect_uri"][0]
    launch = http.post(
        redirect_uri,
        data=_form(
            {
                "id_token": platform.id_token(query["nonce"][0], target, n),
                "state": query["state"][0],
            }
        ),
        headers={**FORM, "Cookie": _cookie_header(login)},
        allow_redirects=False,
        timeout=30,
    )
    if launch.status_code not in (302, 303):
        raise RuntimeError(f"launch answered {launch.status_code}: {launch.text[:300]}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(
    base: str, platform: Platform, cycles: range, clients: int, pid: int
) -> tuple[float, float]:
    """Run the ``cycles`` (numbers pick learner and course) on ``clients`` threads.

    Returns cycles/s and the server's CPU milliseconds per cycle; the second
    barely moves when other processes compete for the CPUs.
    """
    sessions = threading.local()

    def one(n: int) -> None:
        if not hasattr(sessions, "http"):
            sessions.http = requests.Session()
        cycle(sessions.http, base, platform, n)

    with ThreadPoolExecutor(clients) as pool:
        start, cpu = time.perf_counter(), cpu_seconds(pid)
        list(pool.map(one, cycles))
        elapsed, cpu = time.perf_counter() - start, cpu_seconds(pid) - cpu
    return len(cycles) / elapsed, 1000 * cpu / len(cycles)


def serve_bare(port: int, threads: int) -> None:
    """The baseline: a bare Flask app on the same server, the same two requests."""
    from flask import Flask
    from flask import redirect
    from flask import request

    from lms_plugin.server import serve

    app = Flask("bare")

    @app.get("/healthz")
    def healthz():
        return "ok"

    @app.post("/lti/login")
    def login():
        state, nonce = uuid.uuid4().hex, uuid.uuid4().hex
        target = (
            f"{ISSUER}/auth?state={state}&nonce={nonce}"
            f"&redirect_uri={request.host_url}lti/launch"
        )
        response = redirect(target, 302)
        response.set_cookie(f"lti1p3-state-{state}", state, httponly=True)
        return response

    @app.post("/lti/launch")
    def launch():
        if not request.form.get("id_token") or not request.form.get("state"):
            return "missing", 400
        return redirect("/landing", 303)

    serve(app, host="127.0.0.1", port=port, threads=threads)


def bench_backend(name, database_url, platform, args) -> dict:
    """Tool and bare Flask on one database; returns the figures."""
    jwks = JwksServer(platform.jwks)
    instance = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    env = tool_env(database_url, instance)
    subprocess.run(
        [sys.executable, "-m", "lms_plugin", "db", "upgrade"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    register_platform(env, jwks.url)
    tool_port, bare_port = free_port(), free_port()
    threads = str(args.threads)
    tool = start_server(
        [sys.executable, "-m", "lms_plugin", "serve", "--port", str(tool_port)]
        + ["--threads", threads],
        env,
        f"http://127.0.0.1:{tool_port}",
        "/healthz",
        instance / "tool-server.log",
    )
    bare = start_server(
        [sys.executable, __file__, "--serve-bare", str(bare_port)]
        + ["--threads", threads],
        env,
        f"http://127.0.0.1:{bare_port}",
        "/healthz",
        instance / "bare-server.log",
    )
    servers = {"tool": (tool_port, tool.pid), "bare": (bare_port, bare.pid)}
    results = {"tool": [], "bare": []}
    try:
        # The first launches create users, courses and links, and fetch the JWKS.
        for port, pid in servers.values():
            base = f"http://127.0.0.1:{port}"
            run(base, platform, range(WARMUP), args.clients, pid)
        warmup_fetches = jwks.fetches
        # Alternate the two so background load falls on both alike.
        for round_ in range(args.rounds):
            first = WARMUP + round_ * args.cycles
            for target, (port, pid) in servers.items():
                base = f"http://127.0.0.1:{port}"
                cycles = range(first, first + args.cycles)
                results[target].append(run(base, platform, cycles, args.clients, pid))
    finally:
        stop(tool)
        stop(bare)
        jwks.close()
    figures = {"jwks": f"{warmup_fetches}+{jwks.fetches - warmup_fetches}"}
    for target, runs in results.items():
        figures[target] = statistics.median(rate for rate, _ in runs)
        figures[target + "_cpu"] = statistics.median(cpu for _, cpu in runs)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=400, help="timed cycles")
    add_server_options(parser)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare, args.threads)
        return

    platform = Platform()
    backends = [("sqlite", f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3")]
    if args.postgres_url:
        reset_postgres(args.postgres_url)
        backends.append(("postgresql", args.postgres_url))
    print(
        f"{args.rounds} rounds x {args.cycles} timed cycles (after {WARMUP} warm-up) "
        f"per target, {args.clients} client threads, server {args.threads} threads, "
        f"{os.cpu_count()} CPUs, loopback; load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"{'database':11} {'tool c/s':>9} {'bare c/s':>9} {'ratio':>6} "
        f"{'tool ms':>8} {'bare ms':>8} {'JWKS':>6}"
    )
    for name, url in backends:
        r = bench_backend(name, url, platform, args)
        print(
            f"{name:11} {r['tool']:9.1f} {r['bare']:9.1f} {r['tool'] / r['bare']:6.3f} "
            f"{r['tool_cpu']:8.2f} {r['bare_cpu']:8.2f} {r['jwks']:>6}"
        )
    print("c/s: median cycles per second; ratio: tool / bare Flask; ms: server CPU")
    print("milliseconds per cycle; JWKS: platform key-set fetches during warm-up +")
    print("during the timed rounds (the timed rounds must fetch none).")
    print(f"Load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
