"""Benchmark: learner page and quiz-submit throughput on the production server.

For each database (SQLite, PostgreSQL) it prepares a warm database (migrations,
the authored courses in ``courses/`` published, a test platform registered with
an inline JWKS), starts the tool with ``python -m lms_plugin serve`` in a
subprocess, signs learners in through real LTI launches over loopback HTTP, and
then times, per learner session:

    module page   GET  /learn/modules/<slug>                (overview)
    section page  GET  /learn/modules/<slug>/pages/<page>   (records the visit)
    quiz submit   POST .../quiz/start, then POST /learn/attempts/<id> (scored,
                  items and progress written in one transaction)

Beside it, in the same run and with the same server settings, a bare Flask app
(this file, ``--serve-bare``) answers a GET with a small page and a POST with a
303; the ratio is tool / bare. The benchmark module's attempt limit is lifted
(``max_attempts: 0``) so submits never run out.

    python bench/pages.py --requests 400 --clients 4 \\
        --postgres-url postgresql://postgres@127.0.0.1:5432/bench

The PostgreSQL database is emptied first. Everything listens on 127.0.0.1.
"""

import argparse
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import requests
from _server import add_server_options
from _server import free_port
from _server import reset_postgres
from _server import start_server
from _server import stop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MODULE = "m01-clinical-foundations"
LEARNERS = 8  # sessions, one per client thread at most
WARMUP = 40  # requests per target before timing


def prepare(database_url: str, instance: Path):
    """Migrate, publish courses/, register a platform; return (platform, page)."""
    from lms_plugin import create_app
    from lms_plugin.db import database
    from lms_plugin.models.content import Module
    from lms_plugin.models.content import ModuleVersion
    from lms_plugin.models.content import Page
    from tests.lti_platform import TestPlatform

    create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(instance)})
    platform = TestPlatform(issuer="https://platform.bench.example")
    platform.register()
    with database.connection_context():
        module = Module.get(Module.slug == MODULE)
        version = module.current()
        quiz = dict(version.quiz, max_attempts=0)
        ModuleVersion.update(quiz=quiz).where(ModuleVersion.id == version.id).execute()
        page = Page.select().where(Page.module == module).order_by(Page.position)
        first_page = page.first().slug
    database.close()
    return platform, first_page


def launch(base: str, platform, learner: int) -> requests.Session:
    """Sign one learner in through OIDC login + a signed id_token launch."""
    http = requests.Session()
    login = http.post(
        f"{base}/lti/login",
        data={
            "iss": platform.issuer,
            "login_hint": f"learner-{learner}",
            "target_link_uri": f"{base}/lti/launch",
            "client_id": platform.client_id,
            "lti_deployment_id": platform.deployment_id,
        },
        allow_redirects=False,
        timeout=30,
    )
    location = urlsplit(login.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    claims = platform.claims(
        query["nonce"],
        sub=f"bench-learner-{learner}",
        custom={"module_id": MODULE},
        resource_link={"id": "bench-link", "title": "Bench"},
    )
    landed = http.post(
        query["redirect_uri"],
        data={"id_token": platform.sign(claims), "state": query["state"]},
        allow_redirects=False,
        timeout=30,
    )
    if landed.status_code != 303:
        raise RuntimeError(f"launch answered {landed.status_code}: {landed.text[:300]}")
    return http


def _field(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]+)"', html).group(1)


def submit_cycle(http: requests.Session, base: str) -> None:
    """Start an attempt and submit it (blank answers score 0; still fully graded)."""
    quiz = http.get(f"{base}/learn/modules/{MODULE}/quiz", timeout=30).text
    started = http.post(
        f"{base}/learn/modules/{MODULE}/quiz/start",
        data={"csrf_token": _field(quiz, "csrf_token"), "key": _field(quiz, "key")},
        timeout=30,
    )
    found = re.search(r'action="(/learn/attempts/\d+)"', started.text)
    if found is None:
        raise RuntimeError(
            f"no attempt form: {started.status_code} {started.text[:2000]}"
        )
    attempt = found.group(1)
    done = http.post(
        base + attempt,
        data={"csrf_token": _field(quiz, "csrf_token"), "action": "submit"},
        allow_redirects=False,
        timeout=30,
    )
    if done.status_code != 303:
        raise RuntimeError(f"submit answered {done.status_code}")


def timed(work, sessions, total: int, clients: int) -> float:
    """Run ``work(session)`` ``total`` times on ``clients`` threads; per second."""
    local = threading.local()
    counter = iter(range(10**9))
    lock = threading.Lock()

    def one(_):
        if not hasattr(local, "http"):
            with lock:
                local.http = sessions[next(counter) % len(sessions)]
        work(local.http)

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(WARMUP)))
        start = time.perf_counter()
        list(pool.map(one, range(total)))
        return total / (time.perf_counter() - start)


def _get(url):
    def work(http):
        response = http.get(url, timeout=30)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")

    return work


def serve_bare(port: int, threads: int) -> None:
    """The baseline: a bare Flask app on the same server, one GET page and one POST."""
    from flask import Flask
    from flask import redirect

    from lms_plugin.server import serve

    app = Flask("bare")

    @app.get("/healthz")
    def healthz():
        return "ok"

    @app.get("/page")
    def page():
        return "<!doctype html><title>Bare</title><h1>Bare</h1><p>Hello.</p>"

    @app.post("/submit")
    def submit():
        return redirect("/page", 303)

    serve(app, host="127.0.0.1", port=port, threads=threads)


def bench_backend(name: str, database_url: str, args) -> dict:
    instance = Path(tempfile.mkdtemp(prefix=f"bench-pages-{name}-"))
    platform, first_page = prepare(database_url, instance)
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        LMS_PLUGIN_INSTANCE_PATH=str(instance),
        LMS_PLUGIN_SECRET_KEY="bench-secret-" + uuid.uuid4().hex,
    )
    tool_port, bare_port = free_port(), free_port()
    threads = ["--threads", str(args.threads)]
    tool = start_server(
        [sys.executable, "-m", "lms_plugin", "serve", "--port", str(tool_port)]
        + threads,
        env, f"http://127.0.0.1:{tool_port}", "/healthz",
        instance / "tool-server.log",
    )  # fmt: skip
    bare = start_server(
        [sys.executable, __file__, "--serve-bare", str(bare_port)] + threads,
        env, f"http://127.0.0.1:{bare_port}", "/healthz",
        instance / "bare-server.log",
    )  # fmt: skip
    tool_base, bare_base = (
        f"http://127.0.0.1:{tool_port}",
        f"http://127.0.0.1:{bare_port}",
    )
    figures = {
        key: [] for key in ("module", "section", "submit", "bare_get", "bare_post")
    }
    try:
        sessions = [launch(tool_base, platform, n) for n in range(LEARNERS)]
        bare_sessions = [requests.Session() for _ in range(LEARNERS)]

        def bare_post(http):  # the same four requests as a tool submit cycle
            http.get(f"{bare_base}/page", timeout=30)
            http.post(f"{bare_base}/submit", data={"a": "1"}, timeout=30)
            http.post(f"{bare_base}/submit", data={"a": "1"}, allow_redirects=False)

        work = {
            "module": (_get(f"{tool_base}/learn/modules/{MODULE}"), sessions),
            "section": (
                _get(f"{tool_base}/learn/modules/{MODULE}/pages/{first_page}"),
                sessions,
            ),
            "submit": (lambda http: submit_cycle(http, tool_base), sessions),
            "bare_get": (_get(f"{bare_base}/page"), bare_sessions),
            "bare_post": (bare_post, bare_sessions),
        }
        for _ in range(args.rounds):  # alternate, so background load hits all alike
            for key, (fn, pool) in work.items():
                total = (
                    args.requests // 4
                    if "post" in key or key == "submit"
                    else (args.requests)
                )
                figures[key].append(timed(fn, pool, total, args.clients))
    finally:
        stop(tool)
        stop(bare)
    return {key: statistics.median(runs) for key, runs in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="timed requests")
    add_server_options(parser)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare, args.threads)
        return
    backends = [("sqlite", f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3")]
    if args.postgres_url:
        reset_postgres(args.postgres_url)
        backends.append(("postgresql", args.postgres_url))
    print(
        f"{args.rounds} rounds x {args.requests} timed requests per target "
        f"({args.requests // 4} submit cycles), {args.clients} client threads, "
        f"server {args.threads} threads, {os.cpu_count()} CPUs, loopback; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"{'database':11} {'module/s':>9} {'section/s':>9} {'bare GET/s':>10} "
        f"{'ratio':>6} {'submit/s':>9} {'bare/s':>7} {'ratio':>6}"
    )
    for name, url in backends:
        r = bench_backend(name, url, args)
        print(
            f"{name:11} {r['module']:9.1f} {r['section']:9.1f} {r['bare_get']:10.1f} "
            f"{r['module'] / r['bare_get']:6.3f} {r['submit']:9.1f} "
            f"{r['bare_post']:7.1f} {r['submit'] / r['bare_post']:6.3f}"
        )
    print("Medians of the rounds, per second. First ratio: module page / bare GET.")
    print("A submit cycle is four requests (quiz page, start -> 303 -> attempt page,")
    print("submit -> 303); the bare cycle is four requests too (GET, POST -> 303 ->")
    print("GET, POST -> 303). Second ratio: submit cycles / bare cycles.")
    print(f"Load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
