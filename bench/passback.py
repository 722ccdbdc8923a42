"""Benchmark: drain 10,000 queued scores against a local AGS endpoint.

Run from the repository root::

    python -m bench.passback [--scores 10000] [--database sqlite|postgresql|both]
                             [--postgres-url URL]

The AGS platform (tests/ags_platform.py: token endpoint checking the tool's signed
assertion, line items, scores) runs in its own process on 127.0.0.1, so it does
not share the sender's interpreter lock. One sender drains the outbox (claim,
superseded check, line item lookup once, POST, outcome). Beside it, in the same
run, a bare loop of ``requests.post`` to the same score endpoint gives the HTTP
floor. Database cost per score is counted with peewee's ``count_queries`` and
timed around ``execute_sql``. The PostgreSQL database given is emptied first.
"""

import argparse
import datetime
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

import requests
from playhouse.test_utils import count_queries

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lms_plugin import create_app  # noqa: E402
from lms_plugin.db import database  # noqa: E402
from lms_plugin.lti.registration import keys  # noqa: E402
from lms_plugin.lti.services.ags import SCORE_TYPE  # noqa: E402
from lms_plugin.lti.services.ags import scores_url  # noqa: E402
from lms_plugin.models.lti import LtiContext  # noqa: E402
from lms_plugin.models.lti import LtiDeployment  # noqa: E402
from lms_plugin.models.lti import LtiMembership  # noqa: E402
from lms_plugin.models.lti import LtiRegistration  # noqa: E402
from lms_plugin.models.lti import LtiResourceLink  # noqa: E402
from lms_plugin.models.lti import ServiceToken  # noqa: E402
from lms_plugin.models.lti import User  # noqa: E402
from lms_plugin.models.passback import SENT  # noqa: E402
from lms_plugin.models.passback import ScorePost  # noqa: E402
from lms_plugin.passback import enqueue_score  # noqa: E402
from lms_plugin.passback.sender import Sender  # noqa: E402

CLIENT_ID = "bench-client"
MODULE = "m01-foundation"
SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
]


def serve_platform(jwks: dict, ports) -> None:
    """Child process: run the AGS platform until killed."""
    from tests.ags_platform import AgsPlatform

    platform = AgsPlatform(jwks, CLIENT_ID).start()
    ports.put(platform.port)
    while True:
        time.sleep(3600)


def timed_database():
    """Wrap execute_sql to add up the time spent in the database."""
    spent = {"seconds": 0.0}
    original = database.obj.execute_sql

    def execute_sql(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent["seconds"] += time.perf_counter() - start

    database.obj.execute_sql = execute_sql
    return spent


def make_app(url: str, instance: str):
    return create_app(
        {
            "DATABASE_URL": url,
            "INSTANCE_PATH": instance,
            "SECRET_KEY": "bench",
            "AUTO_PUBLISH": False,
            "PASSBACK_THREAD": False,
            "PASSBACK_BATCH": 100,
        }
    )


def seed(platform_url: str, scores: int) -> None:
    """A registration on the platform, a course, ``scores`` learners and scores."""
    registration = LtiRegistration.create(
        issuer="https://lms.bench",
        client_id=CLIENT_ID,
        auth_login_url="https://lms.bench/auth",
        auth_token_url=platform_url + "/token",
    )
    deployment = LtiDeployment.create(registration=registration, deployment_id="1")
    context = LtiContext.create(
        deployment=deployment,
        id_on_platform="course-1",
        lineitems_url=platform_url + "/course-1/lineitems",
        ags_scopes=json.dumps(SCOPES),
    )
    link = LtiResourceLink.create(
        deployment=deployment,
        context=context,
        id_on_platform="link-1",
        title="Module 1",
        module_slug=MODULE,
    )
    with database.atomic():
        for start in range(0, scores, 1000):
            User.insert_many(
                [
                    {"registration": registration.id, "sub": f"learner-{n}"}
                    for n in range(start, min(scores, start + 1000))
                ]
            ).execute()
        users = list(User.select().order_by(User.id))
        for start in range(0, len(users), 1000):
            LtiMembership.insert_many(
                [
                    {"user": u.id, "context": context.id, "is_learner": True}
                    for u in users[start : start + 1000]
                ]
            ).execute()
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    for user in users:
        with database.atomic():
            enqueue_score(
                user=user,
                context=context,
                resource_link=link,
                module_slug=MODULE,
                score_given=80.0,
                score_maximum=100.0,
                activity_progress="Completed",
                grading_progress="FullyGraded",
                timestamp=now,
            )


def bare_http(url: str, token: str, n: int) -> float:
    """Seconds for ``n`` plain score POSTs on one keep-alive session."""
    session = requests.Session()
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": SCORE_TYPE,
        "User-Agent": "bench",
    }
    start = time.perf_counter()
    base = datetime.datetime(2030, 1, 1)
    for i in range(n):
        stamp = base + datetime.timedelta(milliseconds=i)
        score = {
            "userId": "bench-http",
            "scoreGiven": 80.0,
            "scoreMaximum": 100.0,
            "activityProgress": "Completed",
            "gradingProgress": "FullyGraded",
            "timestamp": stamp.isoformat(timespec="milliseconds") + "Z",
        }
        response = session.post(url, data=json.dumps(score), headers=headers)
        response.raise_for_status()
    return time.perf_counter() - start


def run(backend: str, url: str, scores: int) -> dict:
    instance = tempfile.mkdtemp(prefix="bench-passback-")
    app = make_app(url, instance)
    with app.app_context(), database.connection_context():
        jwks = keys.public_jwks()
    ctx = multiprocessing.get_context("spawn")
    ports = ctx.Queue()
    server = ctx.Process(target=serve_platform, args=(jwks, ports), daemon=True)
    server.start()
    platform_url = f"http://127.0.0.1:{ports.get(timeout=30)}"
    try:
        with app.app_context(), database.connection_context():
            start = time.perf_counter()
            with count_queries() as enqueue_queries:
                seed(platform_url, scores)
            seeded = time.perf_counter() - start
        spent = timed_database()
        sender = Sender(app)
        with count_queries() as queries:
            start = time.perf_counter()
            counts = sender.drain()
            drained = time.perf_counter() - start
        db_seconds = spent["seconds"]
        with app.app_context(), database.connection_context():
            sent = ScorePost.select().where(ScorePost.status == SENT).count()
            token = ServiceToken.get().access_token
            lineitem = LtiResourceLink.get().lineitem_url
        stats = requests.get(platform_url + "/_stats", timeout=5).json()
        http = bare_http(scores_url(lineitem), token, scores)
    finally:
        server.kill()
    assert sent == scores == stats["accepted"], (sent, stats, counts)
    assert stats["accepted_twice"] == 0
    return {
        "backend": backend,
        "scores": scores,
        "drain_s": drained,
        "per_s": scores / drained,
        "ms_per_score": drained / scores * 1000,
        "queries_per_score": queries.count / scores,
        "db_ms_per_score": db_seconds / scores * 1000,
        "http_ms": http / scores * 1000,
        "http_per_s": scores / http,
        "enqueue_queries": enqueue_queries.count,
        "seed_s": seeded,
        "tokens": stats["token_requests"],
        "lineitem_creates": stats["lineitem_creates"],
        "score_posts": stats["score_requests"],
    }


def report(results: list[dict]) -> str:
    lines = [
        "| Database | Scores | Drain | Scores/s | ms/score | Queries/score "
        "| DB ms/score | Bare HTTP ms/POST | Bare HTTP POST/s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r['backend']} | {r['scores']:,} | {r['drain_s']:.1f} s "
            f"| {r['per_s']:,.0f} | {r['ms_per_score']:.2f} "
            f"| {r['queries_per_score']:.2f} | {r['db_ms_per_score']:.2f} "
            f"| {r['http_ms']:.2f} | {r['http_per_s']:,.0f} |"
        )
    notes = [
        f"{r['backend']}: {r['score_posts']:,} score POSTs, {r['tokens']} token "
        f"request(s), {r['lineitem_creates']} line item created; enqueueing "
        f"(users, memberships and {r['scores']:,} enqueue_score calls) took "
        f"{r['seed_s']:.1f} s"
        for r in results
    ]
    return "\n".join(lines + [""] + notes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scores", type=int, default=10_000)
    parser.add_argument(
        "--database", choices=["sqlite", "postgresql", "both"], default="both"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("LMS_PLUGIN_BENCH_POSTGRES_URL"),
        help="PostgreSQL database to empty and use (or LMS_PLUGIN_BENCH_POSTGRES_URL)",
    )
    args = parser.parse_args()
    results = []
    if args.database in ("sqlite", "both"):
        path = Path(tempfile.mkdtemp(prefix="bench-passback-db-")) / "bench.sqlite3"
        results.append(run("SQLite", f"sqlite:///{path}", args.scores))
    if args.database in ("postgresql", "both"):
        if not args.postgres_url:
            parser.error("give --postgres-url (its database is emptied)")
        from tests.conftest import reset_postgres

        problem = reset_postgres(args.postgres_url)
        if problem:
            parser.error(problem)
        results.append(run("PostgreSQL", args.postgres_url, args.scores))
    print(report(results))


if __name__ == "__main__":
    main()
