"""``url``: Flask's ``url_for`` for the links every page repeats, built once.

``url_for`` walks the URL map on every call (about 17 µs here), and a learner
page links to its sections, its quiz, the catalog and the stylesheet. A
relative URL depends only on the endpoint, its values and where the app is
mounted (``SCRIPT_NAME``), so :func:`url` keeps what it built, per app. Calls it
cannot key safely go to ``url_for`` as they are: values other than text and
integers, a blueprint-relative endpoint, or an app with URL-default functions
(which may read the request). The templates reach it as ``url``.
"""

from flask import Flask
from flask import current_app
from flask import request
from flask import url_for

#: Where each app keeps its built URLs.
_BUILT = "lms_plugin.url_cache"
#: URLs kept per app before starting again (endpoints × modules × sections).
LIMIT = 10_000


def url(endpoint: str, **values) -> str:
    """``url_for(endpoint, **values)``, remembered for this app and mount point."""
    for value in values.values():
        if type(value) is not str and type(value) is not int:
            return url_for(endpoint, **values)
    built = current_app.extensions.get(_BUILT)
    if built is None:
        return url_for(endpoint, **values)
    key = (request.root_path, endpoint, *values.items())
    found = built.get(key)
    if found is None:
        found = url_for(endpoint, **values)
        # Flask refuses new URL-default functions once requests are served, so
        # what is checked here when a URL is first built stays true.
        if endpoint[:1] != "." and not any(current_app.url_default_functions.values()):
            if len(built) >= LIMIT:
                built.clear()
            built[key] = found
    return found


def init_app(app: Flask) -> None:
    """Give the app its store of built URLs and the templates ``url``."""
    app.extensions[_BUILT] = {}
    app.add_template_global(url)
