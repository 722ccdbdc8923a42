"""lms_plugin: an LTI 1.3 tool serving professional-development modules.

``create_app`` only wires: each subsystem brings its own ``init_app``.
"""

import os

from flask import Flask

from lms_plugin import config


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure the Flask application."""
    instance_path = (test_config or {}).get("INSTANCE_PATH") or os.environ.get(
        "LMS_PLUGIN_INSTANCE_PATH"
    )
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    config.init_app(app, test_config)

    from lms_plugin import assets
    from lms_plugin import auth
    from lms_plugin import content
    from lms_plugin import csrf
    from lms_plugin import db
    from lms_plugin import demo
    from lms_plugin import edge
    from lms_plugin import errors
    from lms_plugin import health
    from lms_plugin import instructor
    from lms_plugin import learner
    from lms_plugin import lti
    from lms_plugin import numbers
    from lms_plugin import outbound
    from lms_plugin import passback
    from lms_plugin import security
    from lms_plugin import url_cache

    edge.init_app(app)  # before any route: bounds <int:>; checks run first
    demo.init_app(app)  # refuses production configs before any DB is touched
    db.init_app(app)
    errors.init_app(app)
    outbound.init_app(app)
    url_cache.init_app(app)
    numbers.init_app(app)
    csrf.init_app(app)
    security.init_app(app)
    health.init_app(app)
    auth.init_app(app)
    lti.init_app(app)
    content.init_app(app)  # after db.init_app: publishes into the migrated database
    assets.init_app(app)
    passback.init_app(app)
    learner.init_app(app)
    instructor.init_app(app)
    return app
