"""A test LTI AGS platform over real HTTP on 127.0.0.1 that fails when told to.

It has an OAuth2 token endpoint that checks the tool's client assertion (RS256,
signed by the tool's key, verified against the tool's JWKS; iss/sub = client_id,
aud = the token URL, single-use jti), line item containers, and score endpoints
that behave like Canvas (an older timestamp than the stored one is a 400). Faults
are queued per endpoint kind: an HTTP status, ``(429, retry_after)``, ``"timeout"``
(answer nothing for a while, record nothing) or ``"hang"`` (block until released).
Every request is counted, so tests can prove no score was posted twice.
"""

import collections
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import jwt
from jwt.algorithms import RSAAlgorithm

from lms_plugin.lti.services.ags import CONTAINER_TYPE
from lms_plugin.lti.services.ags import LINEITEM_TYPE
from lms_plugin.lti.services.ags import SCOPE_LINEITEM
from lms_plugin.lti.services.ags import SCOPE_LINEITEM_READONLY
from lms_plugin.lti.services.ags import SCOPE_SCORE
from lms_plugin.lti.services.ags import SCORE_TYPE

ALL_SCOPES = [SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_SCORE]


class AgsPlatform:
    """The platform's AGS side. Use as a context manager (or start()/stop())."""

    def __init__(self, tool_jwks: dict, client_id: str, *, port: int = 0):
        self.tool_jwks = tool_jwks
        self.client_id = client_id
        self.lock = threading.Lock()
        self.faults: dict[str, collections.deque] = collections.defaultdict(
            collections.deque
        )
        self.tokens: dict[str, set[str]] = {}  # access token -> scopes
        self.seen_jti: set[str] = set()
        self.token_requests = 0
        self.token_refusals: list[str] = []
        self.lineitems: dict[str, dict] = {}  # path -> line item
        self.lineitem_creates = 0
        self.score_requests = 0  # every score POST that reached the handler
        self.accepted = collections.Counter()  # (lineitem, userId, timestamp) -> n
        self.scores: list[dict] = []  # accepted score documents, in order
        self.latest: dict[tuple, str] = {}  # (lineitem, userId) -> timestamp
        self.user_agents: set[str] = set()
        self.delay = 0.0  # seconds each score POST takes
        self.timeout_sleep = 2.0
        self.hanging = 0
        self.release = threading.Event()
        self.port = port
        self._server = None
        self._thread = None

    # --- lifecycle ----------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token_url(self) -> str:
        return self.url + "/token"

    def container_url(self, course: str = "course-1") -> str:
        return f"{self.url}/{course}/lineitems"

    def start(self) -> "AgsPlatform":
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- test controls ------------------------------------------------------

    def fail(self, kind: str, *faults) -> None:
        """Queue faults for the next requests of ``kind`` (token/lineitems/score)."""
        with self.lock:
            self.faults[kind].extend(faults)

    def expire_tokens(self) -> None:
        """Every access token issued so far stops working (401)."""
        with self.lock:
            self.tokens.clear()

    def add_lineitem(self, course="course-1", **fields) -> str:
        """A line item that exists already (e.g. made by Deep Linking); its URL."""
        with self.lock:
            path = f"/{course}/lineitems/{len(self.lineitems) + 1}/lineitem"
            self.lineitems[path] = {"id": self.url + path, **fields}
        return self.url + path

    def accepted_for(self, user_id: str) -> list[dict]:
        return [s for s in self.scores if s["userId"] == user_id]

    def stats(self) -> dict:
        """Counters, for callers in another process."""
        with self.lock:
            return {
                "token_requests": self.token_requests,
                "score_requests": self.score_requests,
                "accepted": sum(self.accepted.values()),
                "accepted_twice": sum(1 for n in self.accepted.values() if n > 1),
                "lineitem_creates": self.lineitem_creates,
            }

    def _next_fault(self, kind: str):
        with self.lock:
            return self.faults[kind].popleft() if self.faults[kind] else None

    # --- HTTP ---------------------------------------------------------------

    def _handler(self):
        platform = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real platforms
            # One write per answer, sent at once (no Nagle/delayed-ACK stalls).
            wbufsize = 65536
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_GET(self):
                path, query = self._split()
                if path == "/_stats":  # for a benchmark running us in a process
                    return self._json(200, platform.stats())
                if path.endswith("/lineitems"):
                    return self._list_lineitems(path, query)
                if path in platform.lineitems:
                    if not self._authorized({SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY}):
                        return None
                    return self._json(200, platform.lineitems[path])
                return self._json(404, {"error": "not found"})

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                path, _ = self._split()
                platform.user_agents.add(self.headers.get("User-Agent", ""))
                if path == "/token":
                    return self._token(body)
                if path.endswith("/lineitems"):
                    return self._create_lineitem(path, body)
                if path.endswith("/scores"):
                    return self._score(path[: -len("/scores")], body)
                return self._json(404, {"error": "not found"})

            def _split(self):
                parts = urlsplit(self.path)
                return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}

            # token endpoint
            def _token(self, body: bytes):
                platform.token_requests += 1
                if self._fault("token"):
                    return None
                form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                problem = platform.check_assertion(form)
                if problem:
                    platform.token_refusals.append(problem)
                    return self._json(
                        400, {"error": "invalid_client", "error_description": problem}
                    )
                token = "tok-" + secrets.token_urlsafe(12)
                with platform.lock:
                    platform.tokens[token] = set(form.get("scope", "").split())
                return self._json(
                    200,
                    {"access_token": token, "token_type": "Bearer", "expires_in": 3600},
                )

            def _authorized(self, any_of: set[str]) -> bool:
                header = self.headers.get("Authorization", "")
                token = header.removeprefix("Bearer ")
                with platform.lock:
                    scopes = platform.tokens.get(token)
                if scopes is None:
                    self._json(401, {"error": "invalid_token"})
                    return False
                if not scopes & any_of:
                    self._json(403, {"error": "insufficient_scope"})
                    return False
                return True

            # line items
            def _list_lineitems(self, path, query):
                if self._fault("lineitems"):
                    return None
                if not self._authorized({SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY}):
                    return None
                items = [
                    item
                    for key, item in platform.lineitems.items()
                    if key.startswith(path + "/")
                    and item.get("resourceId")
                    == query.get("resource_id", item.get("resourceId"))
                ]
                return self._json(200, items, CONTAINER_TYPE)

            def _create_lineitem(self, path, body):
                if self._fault("lineitems"):
                    return None
                if not self._authorized({SCOPE_LINEITEM}):
                    return None
                item = json.loads(body)
                with platform.lock:
                    platform.lineitem_creates += 1
                    item_path = f"{path}/{len(platform.lineitems) + 1}/lineitem"
                    item["id"] = platform.url + item_path
                    platform.lineitems[item_path] = item
                return self._json(201, item, LINEITEM_TYPE)

            # scores
            def _score(self, lineitem_path, body):
                with platform.lock:
                    platform.score_requests += 1
                if self._fault("score"):
                    return None
                if not self._authorized({SCOPE_SCORE}):
                    return None
                if self.headers.get("Content-Type") != SCORE_TYPE:
                    return self._json(415, {"errors": "wrong media type"})
                if lineitem_path not in platform.lineitems:
                    return self._json(404, {"errors": {"message": "no such line item"}})
                if platform.delay:
                    time.sleep(platform.delay)
                return self._json(
                    *platform.record_score(lineitem_path, json.loads(body))
                )

            def _fault(self, kind) -> bool:
                fault = platform._next_fault(kind)
                if fault is None:
                    return False
                if fault == "timeout":
                    time.sleep(platform.timeout_sleep)
                    self.close_connection = True
                    return True
                if fault == "hang":
                    with platform.lock:
                        platform.hanging += 1
                    platform.release.wait(60)
                    self.close_connection = True
                    return True
                status, retry_after = (
                    fault if isinstance(fault, tuple) else (fault, None)
                )
                headers = {"Retry-After": str(retry_after)} if retry_after else {}
                message = {"errors": {"type": "test", "message": f"fault {status}"}}
                self._json(status, message, headers=headers)
                return True

            def _json(
                self, status, body, content_type="application/json", headers=None
            ):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler

    # --- platform rules -----------------------------------------------------

    def check_assertion(self, form: dict) -> str | None:
        """Why the client assertion is refused, or None when it is valid."""
        if form.get("grant_type") != "client_credentials":
            return "grant_type must be client_credentials"
        assertion = form.get("client_assertion", "")
        try:
            kid = jwt.get_unverified_header(assertion).get("kid")
            jwk = next(k for k in self.tool_jwks["keys"] if k["kid"] == kid)
            claims = jwt.decode(
                assertion,
                RSAAlgorithm.from_jwk(json.dumps(jwk)),
                algorithms=["RS256"],
                audience=self.token_url,
                issuer=self.client_id,
                options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]},
            )
        except StopIteration:
            return "unknown kid"
        except jwt.InvalidTokenError as error:
            return f"client assertion rejected: {error}"
        if claims["sub"] != self.client_id:
            return "sub must be the client_id"
        with self.lock:
            if claims["jti"] in self.seen_jti:
                return "jti replayed"
            self.seen_jti.add(claims["jti"])
        return None

    def record_score(self, lineitem_path: str, score: dict) -> tuple[int, dict]:
        """Store a score like Canvas: an older timestamp than the stored one is 400."""
        key = (lineitem_path, score["userId"])
        with self.lock:
            latest = self.latest.get(key)
            if latest and score["timestamp"] < latest:
                return 400, {"errors": {"message": "Score timestamp not after latest"}}
            self.latest[key] = score["timestamp"]
            self.accepted[(lineitem_path, score["userId"], score["timestamp"])] += 1
            self.scores.append(score)
        return 200, {"resultUrl": self.url + lineitem_path + "/results"}
