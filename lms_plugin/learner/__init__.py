"""The learner's pages: catalog, module overview, section pages, quiz and results.

``views.py`` is blueprint ``learner`` (``/learn``): thin views that load, call one
function and render. ``pages.py`` builds what each page shows from the models and
:mod:`lms_plugin.progress`; ``html.py`` renders the small pieces several pages
share (breadcrumbs, section lists, state labels) as template globals.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the learner pages and their template globals."""
    from lms_plugin.learner import html
    from lms_plugin.learner.views import bp

    app.register_blueprint(bp)
    for name in ("crumbs", "instructor_note", "section_list", "state_label"):
        app.add_template_global(getattr(html, name), name)
