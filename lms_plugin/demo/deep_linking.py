"""Deep Linking 2.0 return: the platform verifies the tool's response and adds links.

The LtiDeepLinkingResponse JWT must be signed by a key in the tool's JWKS, issued
by the client_id to this platform, fresh, with a nonce not seen before, for this
deployment, echoing the ``data`` of a deep-linking launch this platform started.
Every ``ltiResourceLink`` becomes a resource link (and its ``lineItem`` a gradebook
column) in one transaction: a bad item refuses the whole response.
"""

import datetime
import json
import secrets
from urllib.parse import urlsplit

from peewee import IntegrityError

from lms_plugin.demo.models import LaunchIntent
from lms_plugin.demo.models import LineItem
from lms_plugin.demo.models import Person
from lms_plugin.demo.models import Registration
from lms_plugin.demo.models import ResourceLink
from lms_plugin.demo.models import SeenJwtId
from lms_plugin.demo.models import demo_database
from lms_plugin.demo.models import utcnow
from lms_plugin.demo.oidc import LTI
from lms_plugin.demo.tool_keys import ToolJwtError
from lms_plugin.demo.tool_keys import verify_tool_jwt
from lms_plugin.errors import LmsError

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
LEEWAY = 60


class DeepLinkError(LmsError):
    """A deep-linking response the platform refuses; nothing was added."""

    title = "The modules could not be added"


def accept_response(
    token: str, registration: Registration, issuer: str, person: Person
) -> dict:
    """Verify the response JWT and add its links; return what happened."""
    claims = _verify(token, registration, issuer)
    items = claims.get(DL + "content_items") or []
    if not isinstance(items, list):
        raise DeepLinkError("content_items must be a list.")
    with demo_database.atomic():
        _use_data(claims, person)
        _use_nonce(claims)
        added = [_add_link(item, registration) for item in items if _is_link(item)]
    return {
        "added": added,
        "skipped": len(items) - len(added),
        "msg": claims.get(DL + "msg"),
        "errormsg": claims.get(DL + "errormsg"),
    }


def _verify(token: str, registration: Registration, issuer: str) -> dict:
    if not token:
        raise DeepLinkError("The response carried no JWT.")
    try:
        claims = verify_tool_jwt(
            token,
            registration.tool_jwks_url,
            audience=issuer,
            issuer=registration.client_id,
            leeway=LEEWAY,
            options={"require": ["iss", "aud", "exp", "iat", "nonce"]},
        )
    except ToolJwtError as error:
        raise DeepLinkError(error.message, status_code=error.status_code) from None
    expected = {
        LTI + "message_type": "LtiDeepLinkingResponse",
        LTI + "version": "1.3.0",
        LTI + "deployment_id": registration.deployment_id,
    }
    for claim, value in expected.items():
        if claims.get(claim) != value:
            name = claim.rsplit("/", 1)[-1]
            raise DeepLinkError(f"{name} must be {value!r}, not {claims.get(claim)!r}.")
    return claims


def _use_data(claims: dict, person: Person) -> None:
    """The echoed ``data`` must name an unused deep-linking launch of ``person``."""
    data = claims.get(DL + "data")
    intent = LaunchIntent.get_or_none(LaunchIntent.deep_link_data == (data or ""))
    if intent is None or not data:
        raise DeepLinkError(
            "The response's data does not match any deep-linking launch."
        )
    if intent.person_id != person.id:
        raise DeepLinkError(
            "This response belongs to a launch by another user.", status_code=403
        )
    if intent.deep_link_used or intent.expires_at < utcnow():
        raise DeepLinkError("This deep-linking launch was already used or expired.")
    LaunchIntent.update(deep_link_used=True).where(
        LaunchIntent.id == intent.id
    ).execute()


def _use_nonce(claims: dict) -> None:
    try:
        with demo_database.atomic():
            SeenJwtId.create(
                value=f"dl-nonce:{claims['iss']}:{claims['nonce']}",
                expires_at=utcnow() + datetime.timedelta(days=1),
            )
    except IntegrityError:
        raise DeepLinkError("The response's nonce was already used.") from None


def _is_link(item) -> bool:
    return isinstance(item, dict) and item.get("type") == "ltiResourceLink"


def _add_link(item: dict, registration: Registration) -> ResourceLink:
    custom = item.get("custom") or {}
    if not isinstance(custom, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in custom.items()
    ):
        raise DeepLinkError("custom must be an object of string values.")
    link = ResourceLink.create(
        link_id=f"demo-link-{secrets.token_hex(6)}",
        title=_text(item.get("title")) or "Untitled module",
        text=_text(item.get("text")),
        url=_tool_url(item.get("url"), registration),
        custom=json.dumps(custom),
    )
    if item.get("lineItem") is not None:
        _add_line_item(item["lineItem"], link)
    return link


def _add_line_item(spec, link: ResourceLink) -> LineItem:
    if not isinstance(spec, dict):
        raise DeepLinkError("lineItem must be an object.")
    maximum = spec.get("scoreMaximum")
    if (
        isinstance(maximum, bool)
        or not isinstance(maximum, int | float)
        or maximum <= 0
    ):
        raise DeepLinkError("lineItem.scoreMaximum must be a number above 0.")
    return LineItem.create(
        label=_text(spec.get("label")) or link.title,
        score_maximum=float(maximum),
        resource_id=_text(spec.get("resourceId")),
        tag=_text(spec.get("tag")),
        resource_link=link,
    )


def _tool_url(value, registration: Registration) -> str:
    """A link's launch URL, which must be on the tool's own origin."""
    url = _text(value)
    if not url:
        return ""
    tool = urlsplit(registration.tool_launch_url)
    parsed = urlsplit(url)
    if (parsed.scheme, parsed.netloc) != (tool.scheme, tool.netloc):
        raise DeepLinkError(f"The link URL {url!r} is not on the tool's origin.")
    return url


def _text(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DeepLinkError("title, text, url, label, resourceId and tag must be text.")
    return value[:2000]
