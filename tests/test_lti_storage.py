"""Shared launch state: single use across requests, expiry and purge."""

import datetime

import pytest

from lms_plugin.clock import utcnow
from lms_plugin.db import database
from lms_plugin.lti.launch import storage
from lms_plugin.models.lti import LaunchState
from lms_plugin.models.lti import LtiNonce


@pytest.fixture
def db(app):
    with database.connection_context():
        yield


def _later(seconds=60):
    return utcnow() + datetime.timedelta(seconds=seconds)


def test_a_login_is_consumed_once(db):
    storage.save_login("state-1", {"nonce": "n1"}, 60)
    assert storage.find_login("state-1") == {"nonce": "n1"}
    storage.consume_login("state-1", "n1", _later())
    assert storage.find_login("state-1") is None
    with pytest.raises(storage.AlreadyUsed):
        storage.consume_login("state-1", "n1-again", _later())


def test_a_nonce_is_single_use_even_with_another_state(db):
    storage.save_login("state-1", {"nonce": "n1"}, 60)
    storage.save_login("state-2", {"nonce": "n1"}, 60)
    storage.consume_login("state-1", "n1", _later())
    with pytest.raises(storage.AlreadyUsed):
        storage.consume_login("state-2", "n1", _later())
    assert storage.find_login("state-2") is not None  # rolled back, not consumed


def test_expired_values_are_invisible_and_purged(db):
    storage.put_value("old", {"a": 1}, -1)
    storage.put_value("new", {"b": 2}, 60)
    LtiNonce.create(value="old-nonce", expires_at=_later(-1))
    LtiNonce.create(value="new-nonce", expires_at=_later())
    assert storage.get_value("old") is None and storage.get_value("new") == {"b": 2}
    assert storage.purge_expired() == 2
    assert [r.key for r in LaunchState.select()] == ["new"]
    assert [r.value for r in LtiNonce.select()] == ["new-nonce"]


def test_logins_purge_expired_state_once_a_minute(app, client, platform, monkeypatch):
    clock = {"now": 1000.0}
    monkeypatch.setattr(storage.time, "monotonic", lambda: clock["now"])
    monkeypatch.setitem(storage._last_purge, "at", -storage.PURGE_INTERVAL)

    def login_leaves_stale_row() -> bool:
        with database.connection_context():
            storage.put_value("stale", {}, -1)
        client.get(
            "/lti/login", query_string={"iss": platform.issuer, "login_hint": "h"}
        )
        with database.connection_context():
            return LaunchState.get_or_none(LaunchState.key == "stale") is not None

    assert not login_leaves_stale_row()  # the first login in a while purges
    clock["now"] += storage.PURGE_INTERVAL - 1
    assert login_leaves_stale_row()  # within the minute: no purge
    clock["now"] += 1
    assert not login_leaves_stale_row()  # a minute on: purged again
