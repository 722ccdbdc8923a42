"""The content pipeline: authored files in ``courses/`` -> the database.

Stages, in order, each a module of its own:

``parse``     files -> plain frozen data (``data.py``), no database; file and line kept
            (``reading`` reads each file and its YAML with line numbers)
``validate``  plain data -> every :class:`~lms_plugin.content.data.Problem` at once
            (``validate_quiz`` for the bank and quiz, ``validate_state`` for
            what both halves share, ``checker`` for the problem collector;
            ``lint`` for item-writing rules, ``measures`` for the bank measures
            of --strict, ``review`` for the review record; each question
            type's own rules live with the type, :mod:`lms_plugin.questions`)
``render``    Markdown -> HTML (callouts, numbered citations), then ``sanitize``
``sanitize``  the one HTML allow-list (the only importer of bleach)
``publish``   one transaction of bulk upserts by stable id (the only stage that
            imports models; ``publish_changes`` finds what changed,
            ``publish_rows`` reads and writes the published rows)

``cli`` adds ``lms-plugin content validate|publish|preview|digest``; ``preview``
writes a static site for clinical reviewers. The format itself is courses/FORMAT.md.
"""

import logging

from flask import Flask

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Add the ``content`` commands; publish COURSES_DIR into an empty database."""
    from lms_plugin.content.cli import content_cli

    app.cli.add_command(content_cli)
    if app.config.get("AUTO_PUBLISH"):
        auto_publish(app)


def auto_publish(app: Flask) -> None:
    """Publish the courses when no course is published yet; log, never raise."""
    from lms_plugin.content.publish import publish_path
    from lms_plugin.db import database
    from lms_plugin.models.content import Course

    try:
        with database.connection_context():
            if not Course.table_exists() or Course.select().exists():
                return
        reports = publish_path(
            app.config["COURSES_DIR"],
            app.config["CONTENT_MAX_FILE_BYTES"],
            app.config["CONTENT_MAX_ASSET_BYTES"],
        )
    except Exception:  # a bad course must never stop the tool from starting
        log.exception("publishing %s on start failed", app.config["COURSES_DIR"])
        return
    for report in reports:
        errors = [p for p in report.problems if p.is_error]
        if errors:
            log.error(
                "course %s not published (%d errors); first: %s; run "
                "`lms-plugin content validate`",
                report.course, len(errors), errors[0],
            )  # fmt: skip
        else:
            log.info("course %s published on start", report.course)
