"""The tool's one clock: naive UTC datetimes, stored alike on SQLite and PostgreSQL."""

import datetime


def utcnow() -> datetime.datetime:
    """Naive UTC now: stored the same way on SQLite and PostgreSQL."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
