"""Numbers shown to people, rounded one way everywhere.

Scores on pages, in the instructor's tables and CSV, in the demo gradebook and in
the AGS ``comment`` all go through :func:`shown`: at most two decimal places,
trailing zeros dropped (``0.933333`` is ``0.93``, ``8.0`` is ``8``). Stored and
posted values (``scoreGiven``) keep their precision; only what people read is
rounded. Registered as the template filters ``number`` and ``percent``.
"""

from flask import Flask

PLACES = 2
NONE = "–"


def shown(value, places: int = PLACES) -> str:
    """``value`` rounded to ``places`` decimals for people; a dash for None."""
    if value is None:
        return NONE
    text = f"{round(float(value), places):.{places}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def percent(value) -> str:
    """A percentage for people: 87.5%, or a dash when there is none."""
    return NONE if value is None else f"{shown(value)}%"


def init_app(app: Flask) -> None:
    app.add_template_filter(shown, "number")
    app.add_template_filter(percent, "percent")
