"""Settings: defaults, then instance/config.py, then LMS_PLUGIN_* env, then tests.

Every key lives in ``DEFAULTS`` with a comment; README's configuration reference
documents each one (a test keeps the two in step).
"""

import os
import secrets
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

#: The checkout the package runs from: migrations/ and courses/ live beside it.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULTS = {
    # Signs sessions and CSRF tokens. Unset: generated once into the instance folder.
    # Several hosts must share one value (set LMS_PLUGIN_SECRET_KEY).
    "SECRET_KEY": None,
    # sqlite:///path or postgresql://user@host/db. Unset: SQLite in the instance folder.
    # The plain DATABASE_URL environment variable is honoured too.
    "DATABASE_URL": None,
    # Seconds a request waits for a free pooled database connection when all are in
    # use; then it is answered 503 with Retry-After. 0: do not wait.
    "DATABASE_POOL_TIMEOUT": 10,
    # Apply pending migrations when the app starts (embedded default).
    "AUTO_MIGRATE": True,
    # Folder of numbered schema migrations.
    "MIGRATIONS_DIR": str(PROJECT_ROOT / "migrations"),
    # Folder of authored courses published by `lms-plugin content publish`.
    "COURSES_DIR": str(PROJECT_ROOT / "courses"),
    # Trusted proxy hops for Werkzeug's ProxyFix, e.g. {"x_for": 1, "x_proto": 1,
    # "x_host": 1}; empty when the tool is not behind a proxy.
    "PROXY_FIX": {},
    # Seconds browsers are told to use only https (Strict-Transport-Security), sent
    # on responses served over https (after PROXY_FIX); never over http. 0: off.
    "HSTS_MAX_AGE": 365 * 24 * 3600,
    # Extra origins allowed to frame the tool (CSP frame-ancestors), beyond the
    # registered platforms, e.g. ["https://lms.example.edu"].
    "FRAME_ANCESTORS": [],
    # Mount the built-in demo LMS at /demo (set by `lms-plugin demo`). Refused with
    # PostgreSQL or a non-loopback DEMO_BASE_URL: never on in production.
    "DEMO_MODE": False,
    # Where the browser reaches the demo, e.g. http://127.0.0.1:8000; unset: taken
    # from each request's host (loopback only).
    "DEMO_BASE_URL": None,
    # Seconds of clock skew allowed on id_token iat/exp/nbf (Moodle tokens live 60 s).
    "LTI_CLOCK_LEEWAY": 60,
    # A new deployment_id of a known registration: "accept" it, or "hold" it
    # (recorded inactive; launches get a 403 until an administrator activates it).
    "LTI_UNKNOWN_DEPLOYMENTS": "accept",
    # Seconds platforms and proxies may cache the tool's /lti/jwks (its Cache-Control
    # max-age); `keys rotate` publishes a new key this long before it signs.
    "LTI_JWKS_MAX_AGE": 300,
    # Minimum seconds between refetches of a platform JWKS on an unknown kid.
    "LTI_JWKS_REFETCH_AFTER": 60,
    # Publish COURSES_DIR when the app starts and no course is published yet.
    "AUTO_PUBLISH": True,
    # Largest authored file the content pipeline reads, in bytes.
    "CONTENT_MAX_FILE_BYTES": 1_000_000,
    # Largest image in a course's assets/ folder the pipeline publishes, in bytes.
    "CONTENT_MAX_ASSET_BYTES": 2 * 1024 * 1024,
    # The tool's public base URL, e.g. https://tool.example.edu, for places without a
    # request (the CLI's `platform list`). Requests use their own host (PROXY_FIX).
    "BASE_URL": None,
    # Accept http:// platform URLs on localhost (a development LMS). Always on in
    # debug and testing; production platforms must use https.
    "LTI_ALLOW_HTTP_LOCALHOST": False,
    # Origins allowed to use Dynamic Registration, e.g. ["https://moodle.example.edu"];
    # empty: any LMS may register the tool.
    "LTI_REGISTRATION_ALLOWED_ISSUERS": [],
    # Networks (CIDRs) an outbound request may reach although they are not public,
    # e.g. ["10.20.0.0/16"] for an on-premises LMS; everything else private,
    # loopback, link-local (cloud metadata), multicast or reserved is refused.
    "OUTBOUND_ALLOWED_NETWORKS": [],
    # Seconds a Dynamic Registration request may take in all (name lookup, connect,
    # send, every read); key sets, rosters and grades have their own limits.
    "OUTBOUND_DEADLINE": 15,
    # Largest answer an outbound request reads, in bytes (rosters, key sets).
    "OUTBOUND_MAX_BYTES": 5_000_000,
    # Dynamic Registration fetches in flight per process; more are refused (503)
    # at once, so registrations never hold the request threads.
    "OUTBOUND_REGISTRATION_CONCURRENCY": 2,
    # Deliver queued scores from a background thread of the server (the embedded
    # default). Off when `lms-plugin worker` processes do it.
    "PASSBACK_THREAD": True,
    # Scores a sender claims per batch.
    "PASSBACK_BATCH": 50,
    # Attempts per score before it is marked failed.
    "PASSBACK_MAX_ATTEMPTS": 10,
    # Seconds before the first retry; doubles per attempt (with jitter) up to the max.
    "PASSBACK_BACKOFF_BASE": 30,
    "PASSBACK_BACKOFF_MAX": 3600,
    # Seconds a sender holds claimed scores; a crashed sender's rows wait this long.
    "PASSBACK_LEASE_SECONDS": 300,
    # Seconds per AGS HTTP call (token, line item, score).
    "PASSBACK_HTTP_TIMEOUT": 20,
    # Seconds an idle sender waits before looking for due scores again.
    "PASSBACK_POLL_SECONDS": 5,
}


def init_app(app: Flask, test_config: dict | None = None) -> None:
    """Load the configuration layers into ``app.config``."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    if os.environ.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = os.environ["DATABASE_URL"]
    app.config.from_prefixed_env("LMS_PLUGIN")
    if test_config:
        app.config.from_mapping(test_config)

    _instance_folder(Path(app.instance_path))
    if not app.config["DATABASE_URL"]:
        db_file = Path(app.instance_path) / "lms_plugin.sqlite3"
        app.config["DATABASE_URL"] = f"sqlite:///{db_file}"
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    if app.config["PROXY_FIX"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, **app.config["PROXY_FIX"])


def _instance_folder(instance: Path) -> None:
    """Create the instance folder (database, secrets) private to its owner: 0700.

    A folder that exists already is left as it is: its owner chose its mode.
    """
    if instance.is_dir():
        return
    instance.parent.mkdir(parents=True, exist_ok=True)
    instance.mkdir(mode=0o700, exist_ok=True)
    instance.chmod(0o700)  # whatever the umask


def _instance_secret(instance: Path) -> str:
    """Read the instance secret, creating it (mode 0600) on first use."""
    path = instance / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
