"""Deep Linking 2.0: the module picker, the signed response, and link binding.

Spec: https://www.imsglobal.org/spec/lti-dl/v2p0. A deep-linking launch
(``launch.py``) calls :func:`start`: it checks the platform's settings and the
user's role, remembers the launch for its user (keyed by launch id, so several
picker tabs work side by side) and redirects to the picker. The picker's choice
becomes one ``ltiResourceLink`` per module, in an ``LtiDeepLinkingResponse``
signed with the tool key and posted back to ``deep_link_return_url``; each
response is sent once per launch.

Every link carries ``custom.module_id``: launching it binds the resource link to
that module (:func:`bind_from_launch`). A link pasted without deep linking is
bound by an instructor's choice instead (:func:`bind_link`).
"""

import datetime
import functools
import logging
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from flask import url_for
from flask_login import current_user
from markupsafe import Markup
from peewee import IntegrityError
from werkzeug.utils import redirect

from lms_plugin.auth import Forbidden
from lms_plugin.auth import current_launch
from lms_plugin.auth import has_role
from lms_plugin.clock import utcnow
from lms_plugin.db import database
from lms_plugin.errors import LmsError
from lms_plugin.lti import claims
from lms_plugin.lti import roles
from lms_plugin.lti.launch import storage
from lms_plugin.lti.launch.adapter import LAUNCH_DATA_LIFETIME
from lms_plugin.lti.launch.adapter import PROTOCOL_ERRORS
from lms_plugin.lti.launch.adapter import load_launch
from lms_plugin.lti.registration import keys
from lms_plugin.models.content import Module
from lms_plugin.models.content import ModuleVersion
from lms_plugin.models.lti import LaunchState
from lms_plugin.models.lti import LtiResourceLink

log = logging.getLogger(__name__)

#: Roles that may add modules to a course through deep linking.
PICKER_ROLES = (
    roles.INSTRUCTOR,
    roles.TEACHING_ASSISTANT,
    roles.ADMINISTRATOR,
    roles.CONTENT_DEVELOPER,
)
RESOURCE_LINK = "ltiResourceLink"
LINE_ITEM_TAG = "lms_plugin-quiz"
CUSTOM_MODULE_ID = "module_id"
RESPONSE_LIFETIME = 600  # seconds the signed response stays valid
_STATE_PREFIX = "deep-link-"
_SENT_PREFIX = "deep-link-sent-"


class DeepLinkingError(LmsError):
    status_code = 400
    title = "Modules cannot be added from here"


class SelectionExpired(LmsError):
    status_code = 404
    title = "This selection has ended"


class AlreadySent(LmsError):
    status_code = 409
    title = "Already sent to your course"


class NotFoundHere(LmsError):
    status_code = 404
    title = "Not found in this course"


@dataclass(frozen=True)
class DeepLinkRequest:
    """What a deep-linking launch asked for, and where the answer goes."""

    launch_id: str
    issuer: str
    client_id: str
    deployment_id: str
    return_url: str
    accept_multiple: bool
    data: str | None
    context_title: str


@dataclass(frozen=True)
class ModuleChoice:
    """A published module as the picker shows it and a content item carries it."""

    slug: str
    title: str
    text: str
    est_minutes: int
    objectives: list
    line_item: dict | None


# --- the deep-linking launch -------------------------------------------------


def start(message_launch):
    """Check a deep-linking launch, remember it for its user, open the picker."""
    data = message_launch.get_launch_data()
    read_settings(data)
    require_picker_role(data)
    launch_id = message_launch.get_launch_id()
    state = {"user_id": current_user.id}
    storage.put_value(_STATE_PREFIX + launch_id, state, LAUNCH_DATA_LIFETIME)
    return redirect(url_for("deep_linking.picker", launch_id=launch_id), code=303)


def read_settings(data: dict) -> dict:
    """The launch's deep_linking_settings, refused when we cannot answer them."""
    settings = data.get(claims.CLAIM_DEEP_LINKING_SETTINGS)
    if not isinstance(settings, dict):
        settings = {}
    return_url = settings.get("deep_link_return_url")
    if not isinstance(return_url, str) or urlsplit(return_url).scheme not in (
        "https",
        "http",
    ):
        raise DeepLinkingError(
            "Your course platform did not say where to send the chosen modules, "
            "so nothing can be added from here. Close this window and try again.",
            detail=f"deep_link_return_url missing or not http(s): {return_url!r}",
        )
    accept_types = settings.get("accept_types") or []
    if RESOURCE_LINK not in accept_types:
        raise DeepLinkingError(
            "This place in your course accepts other kinds of content than the "
            "tool's modules (which are LTI links). Add the tool from the "
            "assignment or module tools of your course instead.",
            detail=f"accept_types {accept_types!r} lacks {RESOURCE_LINK!r}",
        )
    return settings


def require_picker_role(data: dict) -> None:
    """Refuse (403) a user whose launch roles may not add modules."""
    if roles.map_roles(data.get(claims.CLAIM_ROLES)) & set(PICKER_ROLES):
        return
    raise Forbidden(
        "Only instructors, teaching assistants, course designers and "
        "administrators can add modules to a course. Nothing was changed."
    )


def load_request(launch_id: str) -> DeepLinkRequest:
    """The remembered deep-linking launch ``launch_id`` of the signed-in user."""
    state = None
    if len(launch_id) <= 200:  # storage keys are short; longer ids were never issued
        state = storage.get_value(_STATE_PREFIX + launch_id)
    if not state or state.get("user_id") != current_user.id:
        raise _expired(launch_id)
    try:
        message_launch = load_launch(launch_id)
    except PROTOCOL_ERRORS:
        raise _expired(launch_id) from None
    data = message_launch.get_launch_data()
    settings = read_settings(data)
    require_picker_role(data)
    context = data.get(claims.CLAIM_CONTEXT) or {}
    return DeepLinkRequest(
        launch_id=launch_id,
        issuer=data["iss"],
        client_id=message_launch.get_client_id(),
        deployment_id=data[claims.CLAIM_DEPLOYMENT_ID],
        return_url=settings["deep_link_return_url"],
        accept_multiple=settings.get("accept_multiple") is True,
        data=settings.get("data"),
        context_title=str(context.get("title") or context.get("label") or ""),
    )


def _expired(launch_id: str) -> SelectionExpired:
    return SelectionExpired(
        "This module selection has expired or was opened by someone else. Go "
        "back to your course and start adding the tool again.",
        detail=f"no deep-linking state for launch {launch_id[:100]!r} and this user",
    )


# --- modules -------------------------------------------------------------------


def published_modules() -> list[ModuleChoice]:
    """Every module still in a course, in course order, as picker choices."""
    query = (
        ModuleVersion.select(ModuleVersion, Module)
        .join(Module)
        .where(Module.retired_at.is_null() & (ModuleVersion.number == Module.version))
        .order_by(Module.position, Module.slug)
    )
    return [_choice(version) for version in query]


def _choice(version: ModuleVersion) -> ModuleChoice:
    quiz = version.quiz or {}
    line_item = quiz.get("line_item") or None
    if quiz and not line_item:
        line_item = {"score_maximum": 100, "label": quiz.get("title") or version.title}
    return ModuleChoice(
        slug=version.module.slug,
        title=version.title,
        text=Markup(version.summary_html or "").striptags(),
        est_minutes=version.est_minutes,
        objectives=list(version.objectives or []),
        line_item=line_item,
    )


def chosen_modules(slugs: list[str], *, multiple: bool) -> list[ModuleChoice]:
    """The published modules named by ``slugs``; a ValueError says what is wrong."""
    slugs = list(dict.fromkeys(slugs))
    if not slugs:
        raise ValueError("Choose at least one module, or cancel to add nothing.")
    if len(slugs) > 1 and not multiple:
        raise ValueError("Your course platform accepts one module here; choose one.")
    by_slug = {choice.slug: choice for choice in published_modules()}
    unknown = [slug for slug in slugs if slug not in by_slug]
    if unknown:
        raise ValueError("A chosen module is no longer available; choose again.")
    return [by_slug[slug] for slug in slugs]


# --- the response --------------------------------------------------------------


def content_item(choice: ModuleChoice, launch_url: str) -> dict:
    """The ``ltiResourceLink`` content item for one module."""
    item = {
        "type": RESOURCE_LINK,
        "title": choice.title,
        "text": choice.text,
        "url": launch_url,
        "custom": {CUSTOM_MODULE_ID: choice.slug},
    }
    if choice.line_item:
        item["lineItem"] = {
            "scoreMaximum": choice.line_item["score_maximum"],
            "label": choice.line_item.get("label") or choice.title,
            "resourceId": choice.slug,
            "tag": LINE_ITEM_TAG,
        }
    return item


def response_jwt(request: DeepLinkRequest, items: list[dict], message: str) -> str:
    """The signed ``LtiDeepLinkingResponse`` (RS256, the tool key's kid)."""
    now = int(time.time())
    body = {
        "iss": request.client_id,
        "aud": request.issuer,
        "iat": now,
        "exp": now + RESPONSE_LIFETIME,
        "nonce": secrets.token_urlsafe(24),
        claims.CLAIM_DEPLOYMENT_ID: request.deployment_id,
        claims.CLAIM_MESSAGE_TYPE: claims.MESSAGE_DEEP_LINKING_RESPONSE,
        claims.CLAIM_VERSION: claims.LTI_VERSION,
        claims.CLAIM_DL_CONTENT_ITEMS: items,
        claims.CLAIM_DL_MSG: message,
    }
    if request.data is not None:
        body[claims.CLAIM_DL_DATA] = request.data
    key = keys.signing_key()
    return jwt.encode(
        body,
        _private_key(key.kid, key.private_pem),
        algorithm="RS256",
        headers={"kid": key.kid, "typ": "JWT"},
    )


@functools.lru_cache(maxsize=8)
def _private_key(kid: str, pem: str):
    """The parsed key (parsing a PEM costs ~0.3 s; a kid names one key forever)."""
    return serialization.load_pem_private_key(pem.encode(), password=None)


def respond(request: DeepLinkRequest, choices: list[ModuleChoice]) -> str:
    """Sign the answer to ``request`` once; an empty ``choices`` cancels."""
    launch_url = url_for("lti.launch", _external=True)
    items = [content_item(choice, launch_url) for choice in choices]
    mark_sent(request.launch_id)
    log.info(
        "deep-linking response for %s: %s",
        request.launch_id,
        [choice.slug for choice in choices] or "cancelled",
    )
    return response_jwt(request, items, summary(choices))


def summary(choices: list[ModuleChoice]) -> str:
    """A sentence for the platform and the user about what was sent."""
    if not choices:
        return "No modules were added."
    noun = "module" if len(choices) == 1 else "modules"
    return f"Added {len(choices)} {noun}: " + "; ".join(c.title for c in choices)


def mark_sent(launch_id: str) -> None:
    """Record that ``launch_id`` was answered; AlreadySent on a second answer."""
    try:
        with database.atomic():
            LaunchState.create(
                key=_SENT_PREFIX + launch_id,
                value="true",
                expires_at=utcnow() + datetime.timedelta(seconds=LAUNCH_DATA_LIFETIME),
            )
    except IntegrityError:
        raise AlreadySent(
            "These modules were already sent to your course from this window. "
            "Close it, or add the tool again to choose more modules."
        ) from None


# --- binding resource links to modules -------------------------------------------


def is_published(slug) -> bool:
    """True when ``slug`` names a module still in a course."""
    return isinstance(slug, str) and (
        Module.select()
        .where((Module.slug == slug) & Module.retired_at.is_null())
        .exists()
    )


def bind_from_launch(link: LtiResourceLink, data: dict) -> bool:
    """Bind an unbound ``link`` to the module its ``custom.module_id`` names."""
    if link.module_slug:
        return False
    custom = data.get(claims.CLAIM_CUSTOM)
    slug = custom.get(CUSTOM_MODULE_ID) if isinstance(custom, dict) else None
    if slug is None:
        return False
    if not is_published(slug):
        log.warning("link %s names unknown module %r; left unbound", link.id, slug)
        return False
    LtiResourceLink.update(module_slug=slug, updated_at=utcnow()).where(
        (LtiResourceLink.id == link.id) & LtiResourceLink.module_slug.is_null()
    ).execute()
    link.module_slug = slug
    return True


def link_for_staff(link_id: int) -> LtiResourceLink:
    """The resource link ``link_id`` of the session's context, for its staff only."""
    link = LtiResourceLink.get_or_none(LtiResourceLink.id == link_id)
    launch = current_launch()
    context_id = launch.context.id if launch and launch.context else None
    if link is None or context_id is None or link.context_id != context_id:
        raise NotFoundHere(
            "This link is not part of the course you opened the tool from. Open "
            "it from its own course.",
            detail=f"resource link {link_id} is not in context {context_id}",
        )
    if not has_role(*roles.STAFF):  # they choose the module of a pasted link
        raise Forbidden(
            "Only instructors, teaching assistants and administrators of this "
            "course can choose which module a link opens."
        )
    return link


def bind_link(link: LtiResourceLink, slug: str) -> None:
    """Make ``link`` open the published module ``slug``; ValueError if unknown."""
    if not is_published(slug):
        raise ValueError("Choose one of the modules listed.")
    LtiResourceLink.update(module_slug=slug, updated_at=utcnow()).where(
        LtiResourceLink.id == link.id
    ).execute()
    link.module_slug = slug
    log.info("resource link %s bound to module %s by user %s", link.id, slug,
             current_user.id)  # fmt: skip
