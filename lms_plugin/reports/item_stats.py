"""Per-question statistics of a module's quiz in one course context.

For every scored item (a question version, or one child of a case set) over the
submitted attempts of the context's learners:

- ``n``: responses (attempts that drew the item);
- ``p``: proportion correct, the mean fraction of credit (partial credit counts);
- ``discrimination``: the point-biserial correlation (Pearson r) between the item
  score and the rest-of-test score of the same attempt, as a fraction of the points
  the attempt's other items offered (quizzes draw different items, so a fraction
  compares attempts fairly). ``None`` under :data:`MIN_N` responses, or when
  either score does not vary;
- option choice counts for single, multiple and true/false items.

Items are flagged when p > :data:`TOO_EASY` or the discrimination is negative.
Two queries whatever the number of questions: the responses, then the questions.
"""

import math
from dataclasses import dataclass
from dataclasses import field

from lms_plugin.models.content import Module
from lms_plugin.models.content import Question
from lms_plugin.models.content import QuestionVersion
from lms_plugin.models.lti import LtiContext
from lms_plugin.models.lti import LtiMembership
from lms_plugin.models.progress import ATTEMPT_SUBMITTED
from lms_plugin.models.progress import AttemptItem
from lms_plugin.models.progress import QuizAttempt

MIN_N = 5  # fewer responses: no discrimination and no flags (too noisy)
TOO_EASY = 0.95  # p above this: the item hardly tells learners apart
CHOICE_TYPES = ("single", "multiple", "true_false")


@dataclass(frozen=True)
class Response:
    """One item of one submitted attempt, with the attempt's totals."""

    attempt: int
    version: int  # QuestionVersion id
    item_id: str
    earned: float
    possible: float
    total_earned: float
    total_possible: float
    response: object = None


@dataclass(frozen=True)
class Choice:
    id: str
    text: str
    correct: bool
    count: int


@dataclass
class ItemStats:
    """What the statistics page shows for one item."""

    version: int
    item_id: str
    type: str
    stem: str
    n: int
    p: float | None
    discrimination: float | None
    choices: list[Choice] = field(default_factory=list)
    unanswered: int = 0
    flags: list[str] = field(default_factory=list)


def correlation(xs: list[float], ys: list[float]) -> float | None:
    """Pearson r of two equally long lists; None if either does not vary."""
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx <= 1e-12 or syy <= 1e-12:
        return None
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return sxy / math.sqrt(sxx * syy)


def _fraction(earned: float, possible: float) -> float:
    return earned / possible if possible else 0.0


def item_score_pairs(responses: list[Response]) -> tuple[list[float], list[float]]:
    """(item fraction, rest-of-test fraction) per response that has a rest."""
    items, rests = [], []
    for r in responses:
        rest_possible = r.total_possible - r.possible
        if rest_possible > 0:
            items.append(_fraction(r.earned, r.possible))
            rests.append((r.total_earned - r.earned) / rest_possible)
    return items, rests


def item_data(data: dict, item_id: str) -> dict:
    """The item ``item_id`` of a question's data: itself or a case-set child."""
    if data.get("id") == item_id:
        return data
    for child in data.get("questions") or []:
        if child.get("id") == item_id:
            return child
    return {"id": item_id, "type": "", "stem": ""}


def choices_of(item: dict, responses: list[Response]) -> list[Choice]:
    """How often each option was chosen (single, multiple, true/false)."""
    if item.get("type") == "true_false":
        options = [
            {"id": "true", "text": "True", "correct": bool(item.get("answer"))},
            {"id": "false", "text": "False", "correct": not item.get("answer")},
        ]
    else:
        options = item.get("options") or []
    counts = {o["id"]: 0 for o in options}
    for r in responses:
        for chosen in _chosen(r.response):
            if chosen in counts:
                counts[chosen] += 1
    return [
        Choice(o["id"], o.get("text", o["id"]), bool(o.get("correct")), counts[o["id"]])
        for o in options
    ]


def _chosen(response) -> list[str]:
    if isinstance(response, bool):
        return ["true" if response else "false"]
    if isinstance(response, str):
        return [response]
    if isinstance(response, list):
        return [c for c in response if isinstance(c, str)]
    return []


def analyse_item(version: int, item: dict, responses: list[Response]) -> ItemStats:
    """Statistics of one item over its responses."""
    n = len(responses)
    p = sum(_fraction(r.earned, r.possible) for r in responses) / n if n else None
    discrimination = correlation(*item_score_pairs(responses)) if n >= MIN_N else None
    stats = ItemStats(
        version, item["id"], item.get("type", ""), item.get("stem", ""), n, p,
        discrimination,
    )  # fmt: skip
    if stats.type in CHOICE_TYPES:
        stats.choices = choices_of(item, responses)
    stats.unanswered = sum(1 for r in responses if r.response is None)
    if n >= MIN_N and p is not None and p > TOO_EASY:
        stats.flags.append(f"Almost everyone is right (p > {TOO_EASY:g})")
    if discrimination is not None and discrimination < 0:
        stats.flags.append("Negative discrimination: stronger learners miss it more")
    return stats


def analyse(responses: list[Response], questions: dict[int, dict]) -> list[ItemStats]:
    """Statistics of every item, in quiz order (``questions``: version id -> data)."""
    groups: dict[tuple[int, str], list[Response]] = {}
    for r in responses:
        groups.setdefault((r.version, r.item_id), []).append(r)
    order = {version: n for n, version in enumerate(questions)}
    keys = sorted(groups, key=lambda k: (order.get(k[0], len(order)), k[0], k[1]))
    return [analyse_item(v, item_data(questions.get(v, {}), i), groups[(v, i)])
            for v, i in keys]  # fmt: skip


def responses_of(context: LtiContext, module: Module) -> list[Response]:
    """Items of the submitted attempts of this context's learners (one query)."""
    query = (
        AttemptItem.select(
            QuizAttempt.id,
            AttemptItem.question_version,
            AttemptItem.item_id,
            AttemptItem.earned,
            AttemptItem.possible,
            QuizAttempt.earned,
            QuizAttempt.possible,
            AttemptItem.response,
        )  # fmt: skip
        .join(QuizAttempt)
        .join(
            LtiMembership,
            on=(LtiMembership.user == QuizAttempt.user)
            & (LtiMembership.context == QuizAttempt.context),
        )
        .where(
            (QuizAttempt.context == context)
            & (QuizAttempt.scope == context.id)
            & (QuizAttempt.module == module)
            & (QuizAttempt.status == ATTEMPT_SUBMITTED)
            & LtiMembership.is_learner
        )
        .order_by(AttemptItem.id)
        .tuples()
    )
    return [_response(*row) for row in query]


def _response(attempt, version, item_id, earned, possible, total_e, total_p, data):
    # .tuples() still applies field converters: ``data`` is decoded JSON.
    return Response(attempt, version, item_id, earned, possible,
                    total_e or 0.0, total_p or 0.0, data)  # fmt: skip


def questions_of(versions: set[int]) -> dict[int, dict]:
    """Question data of ``versions`` in bank order (one query)."""
    query = (
        QuestionVersion.select(QuestionVersion.id, QuestionVersion.data)
        .join(Question)
        .where(QuestionVersion.id.in_(list(versions) or [0]))
        .order_by(Question.position, Question.slug, QuestionVersion.number)
    )
    return {row.id: row.data for row in query}


def module_statistics(context: LtiContext, module: Module) -> tuple[list, int]:
    """Item statistics of ``module`` in ``context``, and the attempts counted."""
    responses = responses_of(context, module)
    questions = questions_of({r.version for r in responses})
    return analyse(responses, questions), len({r.attempt for r in responses})
