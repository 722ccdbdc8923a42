"""HTML the learner pages repeat, built in Python where Jinja's cost per item shows.

The section list sits on every module and section page. As a Jinja macro, its
loop (a link, a state and a class per section) cost more than all the page's
queries; here it is a few string joins. The markup is what the macro wrote:
``tests/test_learner.py`` checks it, and the browser tests run axe on it.
Every text goes through :func:`markupsafe.escape`.
"""

from urllib.parse import quote

from markupsafe import Markup
from markupsafe import escape

from lms_plugin.urls import url

#: What a section's state reads as, by :data:`lms_plugin.progress.Section.state`.
_STATE_HTML = (
    "not opened",
    "opened",
    '<span aria-hidden="true">✔</span> completed',
)

_CURRENT = ' aria-current="page"'


def section_list(module, sections, current=None, version=None) -> Markup:
    """The module's sections, each linked with its state; the quiz last.

    ``current`` is the section shown (marked ``aria-current``); ``version``
    adds the quiz when it has one.
    """
    base = url("learner.page", slug=module.slug, page_slug="-").removesuffix("-")
    current_id = current.id if current is not None else None
    items = []
    for section in sections:
        done = " done" if section.done else ""
        here = _CURRENT if section.id == current_id else ""
        href = escape(base + quote(section.slug, safe=""))
        items.append(
            f'<li class="section{done}"><a href="{href}"{here}>'
            f"{escape(section.title)}</a> "
            f'<span class="section-state">{_STATE_HTML[section.state]}</span></li>'
        )
    quiz = version.quiz if version is not None else None
    if quiz:
        items.append(
            '<li class="section section-quiz">'
            f'<a href="{escape(url("learner.quiz", slug=module.slug))}">'
            f"{escape(quiz.get('title') or 'Quiz')}</a></li>"
        )
    return Markup(
        '<nav class="sections" aria-label="Sections of this module">\n'
        '<h2 class="sections-title">Sections</h2>\n<ol>\n'
        + "\n".join(items)
        + "\n</ol>\n</nav>"
    )
