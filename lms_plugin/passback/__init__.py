"""Grade passback: scores go to the platform's gradebook over LTI AGS, via an outbox.

A learner's request calls :func:`enqueue_score`, which only writes a row in the same
transaction as the attempt. Senders deliver the outbox: a background thread of the
server (``PASSBACK_THREAD``), or ``lms-plugin worker`` processes on any number of
hosts. ``lms-plugin scores status`` and ``lms-plugin scores retry`` are for operators.
"""

from flask import Flask

from lms_plugin.lti.services.ags import InvalidScore
from lms_plugin.passback.outbox import enqueue_score
from lms_plugin.passback.outbox import requeue

__all__ = ["InvalidScore", "enqueue_score", "init_app", "requeue", "start_thread"]


def start_thread(app: Flask):
    """Start the app's sender thread (idempotent)."""
    from lms_plugin.passback.sender import start_thread as start

    return start(app)


def init_app(app: Flask) -> None:
    """Add the ``worker`` and ``scores`` commands; start the sender with the server."""
    from lms_plugin.passback.cli import scores_cli
    from lms_plugin.passback.cli import worker_command

    app.extensions["lms_plugin.passback"] = {}
    app.cli.add_command(worker_command)
    app.cli.add_command(scores_cli)
    if app.config["PASSBACK_THREAD"]:
        app.before_request(lambda: _ensure_thread(app))


def _ensure_thread(app: Flask) -> None:
    thread = app.extensions["lms_plugin.passback"].get("thread")
    if thread is None or not thread.is_alive():
        start_thread(app)
