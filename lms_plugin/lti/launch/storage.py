"""Shared, expiring launch state in the database: login states, nonces, launch data.

Every worker on every host sees the same rows, so a login started on one process
can finish on another, and a nonce used anywhere is used everywhere. Expired rows
are ignored on read and purged by :func:`purge_expired`, which logins run at most
once a minute per process. Each statement here runs on every launch, so each is
prepared (the model methods of ``LaunchState`` and ``LtiNonce``).
"""

import datetime
import json
import threading
import time
import typing as t

from peewee import IntegrityError
from pylti1p3.launch_data_storage.base import LaunchDataStorage

from lms_plugin.clock import utcnow
from lms_plugin.db import database
from lms_plugin.models.lti import LaunchState
from lms_plugin.models.lti import LtiNonce

_LOGIN_PREFIX = "login-"


def _expiry(seconds: float) -> datetime.datetime:
    return utcnow() + datetime.timedelta(seconds=seconds)


def put_value(key: str, value: t.Any, lifetime: float) -> None:
    """Store ``value`` (JSON) under ``key`` for ``lifetime`` seconds, replacing it."""
    LaunchState.upsert(
        {"key": key},
        {"value": json.dumps(value), "expires_at": _expiry(lifetime)},
    )


def get_value(key: str) -> t.Any:
    """Return the unexpired value under ``key``, or None."""
    value = LaunchState.unexpired_value(key, utcnow())
    return json.loads(value) if value is not None else None


def save_login(state: str, login: dict, lifetime: float) -> None:
    """Remember a login we started: its nonce, registration and parameters."""
    put_value(_LOGIN_PREFIX + state, login, lifetime)


def find_login(state: str) -> dict | None:
    """Return the unexpired, unused login for ``state``, or None."""
    return get_value(_LOGIN_PREFIX + state)


class AlreadyUsed(Exception):
    """The login state or the nonce was consumed before."""


def consume_login(state: str, nonce: str, nonce_expires_at: datetime.datetime):
    """Use the login ``state`` and its ``nonce`` once, atomically, across all workers.

    :raises AlreadyUsed: when another request consumed either first.
    """
    try:
        with database.atomic():
            # The unique index is the lock: a concurrent insert of the same nonce
            # waits for this transaction, then fails.
            LtiNonce.spend(nonce, nonce_expires_at)
            if not LaunchState.take(_LOGIN_PREFIX + state, utcnow()):
                raise AlreadyUsed(f"login state {state} was already used")
    except IntegrityError as error:
        raise AlreadyUsed(f"nonce {nonce} was already used") from error


#: Seconds between purges of expired rows, per process.
PURGE_INTERVAL = 60.0
_last_purge = {"at": -PURGE_INTERVAL}
_purge_lock = threading.Lock()


def purge_now_and_then(interval: float = PURGE_INTERVAL) -> int | None:
    """Purge expired rows if this process has not in ``interval`` seconds.

    Expired rows are never read, so a purge is housekeeping: doing it on every
    login would cost each login two deletes for nothing. Returns the count
    purged, or None when it was not yet time.
    """
    with _purge_lock:
        now = time.monotonic()
        if now - _last_purge["at"] < interval:
            return None
        _last_purge["at"] = now
    return purge_expired()


def purge_expired() -> int:
    """Delete expired launch state and nonces; return how many rows went."""
    now = utcnow()
    states = LaunchState.delete().where(LaunchState.expires_at <= now).execute()
    nonces = LtiNonce.delete().where(LtiNonce.expires_at <= now).execute()
    return states + nonces


class DbLaunchDataStorage(LaunchDataStorage):
    """pylti1p3's launch-data storage contract on :class:`LaunchState` rows.

    No session-id cookie namespace: launch ids are random UUIDs and only ever
    read back from the user's own session, so the cookie (which third-party
    cookie blocking would drop) adds nothing.
    """

    def get_session_cookie_name(self) -> None:
        return None

    def can_set_keys_expiration(self) -> bool:
        return True

    def get_value(self, key: str) -> t.Any:
        return get_value(self._prepare_key(key))

    def set_value(self, key: str, value: t.Any, exp: int | None = None) -> None:
        put_value(self._prepare_key(key), value, exp or 86400)

    def check_value(self, key: str) -> bool:
        return get_value(self._prepare_key(key)) is not None
