"""HTML every learner page repeats, built in Python rather than as Jinja macros.

The section list, breadcrumb, status label and instructor note sit on the
module and section pages, the hottest in the tool. As Jinja macros they cost
more than all of a page's queries: importing the macro file (about 45 µs a
render), calling each macro, and the section list's loop (a link, a state and
a class per section). Here they are a few string joins. The markup is what the
macros wrote: ``tests/test_learner.py`` checks it, and the browser tests run
axe on every page. Every text goes through :func:`markupsafe.escape`. The
templates reach these as globals of the same names.
"""

from urllib.parse import quote

from markupsafe import Markup
from markupsafe import escape

from lms_plugin.auth import is_staff
from lms_plugin.models.progress import NOT_STARTED
from lms_plugin.models.progress import STATE_LABELS
from lms_plugin.url_cache import url

#: What a section's state reads as, by :attr:`.models.sections.Section.state`.
_STATE_HTML = (
    "not opened",
    "opened",
    '<span aria-hidden="true">✔</span> completed',
)

_CURRENT = ' aria-current="page"'


def state_label(state: str | None) -> str:
    """A module state for people ("Not started" for anything else)."""
    return STATE_LABELS.get(state, STATE_LABELS[NOT_STARTED])


def crumbs(module, title: str, here: str | None = None) -> Markup:
    """The breadcrumb: all modules, the module, and the page (``here``) if any."""
    items = [f'<li><a href="{escape(url("learner.catalog"))}">All modules</a></li>']
    if here:
        module_url = escape(url("learner.module_page", slug=module.slug))
        items.append(f'<li><a href="{module_url}">{escape(title)}</a></li>')
        items.append(f'<li><span aria-current="page">{escape(here)}</span></li>')
    else:
        items.append(f'<li><span aria-current="page">{escape(title)}</span></li>')
    return Markup(
        '<nav class="breadcrumb" aria-label="Breadcrumb">\n<ol>\n'
        + "\n".join(items)
        + "\n</ol>\n</nav>"
    )


def instructor_note(membership, link: str | None) -> Markup:
    """For staff who opened the module as learners see it: a note, the way back."""
    if not is_staff(membership):
        return Markup("")
    back = f' <a href="{escape(link)}">Open the instructor view</a>.' if link else ""
    return Markup(
        '<p class="note-instructor">You are seeing the module as learners see it; '
        f"your progress and attempts here are your own.{back}</p>"
    )


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
