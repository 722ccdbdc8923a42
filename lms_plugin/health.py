"""``GET /healthz``: liveness plus database reachability, for load balancers."""

import logging

from flask import Blueprint
from flask import Flask
from flask import jsonify

from lms_plugin.db import ping

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    """Answer 200 when the database answers a query, 503 otherwise."""
    try:
        ping()
    except Exception as error:  # any driver error means "not healthy"
        log.warning("health check failed: %s", error)
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


def init_app(app: Flask) -> None:
    """Register the health blueprint."""
    app.register_blueprint(bp)
