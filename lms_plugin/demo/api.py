"""The platform's LTI Advantage services over HTTP: AGS line items, scores, NRPS.

Each view checks the bearer token's scope, parses, calls one function and shapes
the response with the spec's media type.
"""

from flask import jsonify
from flask import request

from lms_plugin.demo import ags
from lms_plugin.demo import nrps
from lms_plugin.demo.blueprint import bp
from lms_plugin.demo.blueprint import issuer
from lms_plugin.demo.blueprint import registration
from lms_plugin.demo.models import LineItem
from lms_plugin.demo.models import Person
from lms_plugin.demo.models import Score
from lms_plugin.demo.oauth import ServiceError
from lms_plugin.demo.oauth import require_scope
from lms_plugin.demo.oidc import AGS_SCOPES
from lms_plugin.demo.oidc import NRPS_SCOPE
from lms_plugin.demo.paging import link_header
from lms_plugin.demo.paging import page_args

LINEITEM, LINEITEM_READONLY, RESULT_READONLY, SCORE = AGS_SCOPES


def _json(body, media_type: str, status: int = 200, link: str | None = None):
    response = jsonify(body)
    response.status_code = status
    response.mimetype = media_type
    if link:
        response.headers["Link"] = link
    return response


def _body(*media_types: str) -> dict:
    """The JSON request body, sent with one of ``media_types`` (or plain JSON)."""
    if request.mimetype not in (*media_types, "application/json"):
        raise ServiceError(
            "invalid_request", f"Content-Type must be {media_types[0]}", 415
        )
    body = request.get_json(force=True, silent=True)
    if body is None:
        raise ServiceError("invalid_request", "the body is not valid JSON")
    return body


def _line_item(item_id: int) -> LineItem:
    item = LineItem.get_or_none(LineItem.id == item_id)
    if item is None:
        raise ServiceError("not_found", f"no line item {item_id}", 404)
    return item


@bp.get("/api/lineitems")
def line_items():
    """The line item container, filtered and paged (Link rel="next")."""
    require_scope(registration(), LINEITEM, LINEITEM_READONLY)
    limit, page = page_args(request.args, default_limit=10, max_limit=100)
    query = ags.find_line_items(request.args)
    items = [ags.line_item_json(i, issuer()) for i in query.paginate(page, limit)]
    link = link_header(request.base_url, request.args, limit, page, query.count())
    return _json(items, ags.CONTAINER_TYPE, link=link)


@bp.post("/api/lineitems")
def create_line_item():
    """Create a line item (scope lineitem)."""
    require_scope(registration(), LINEITEM)
    item = ags.create_line_item(_body(ags.LINEITEM_TYPE))
    return _json(ags.line_item_json(item, issuer()), ags.LINEITEM_TYPE, 201)


@bp.get("/api/lineitems/<int:item_id>")
def line_item(item_id: int):
    """One line item."""
    require_scope(registration(), LINEITEM, LINEITEM_READONLY)
    return _json(ags.line_item_json(_line_item(item_id), issuer()), ags.LINEITEM_TYPE)


@bp.put("/api/lineitems/<int:item_id>")
def update_line_item(item_id: int):
    """Update a line item (scope lineitem)."""
    require_scope(registration(), LINEITEM)
    item = ags.update_line_item(_line_item(item_id), _body(ags.LINEITEM_TYPE))
    return _json(ags.line_item_json(item, issuer()), ags.LINEITEM_TYPE)


@bp.post("/api/lineitems/<int:item_id>/scores")
def post_score(item_id: int):
    """Receive a score for a learner (scope score)."""
    require_scope(registration(), SCORE)
    item = _line_item(item_id)
    ags.record_score(item, _body(ags.SCORE_TYPE))
    return "", 204


@bp.get("/api/lineitems/<int:item_id>/results")
def results(item_id: int):
    """The line item's current results (scope result.readonly)."""
    require_scope(registration(), RESULT_READONLY)
    query = Score.select().where(Score.line_item == _line_item(item_id))
    if request.args.get("user_id"):
        query = query.join(Person).where(Person.sub == request.args["user_id"])
    body = [ags.result_json(score, issuer()) for score in query.order_by(Score.id)]
    return _json(body, ags.RESULTS_TYPE)


@bp.get("/api/memberships")
def memberships():
    """NRPS 2.0 membership container, two members a page (Link rel="next")."""
    require_scope(registration(), NRPS_SCOPE)
    _check_accept(nrps.MEMBERSHIP_TYPE)
    limit, page = page_args(request.args, nrps.PAGE_SIZE, nrps.PAGE_SIZE)
    everyone = nrps.members(request.args.get("role"))
    chosen = everyone[(page - 1) * limit : page * limit]
    body = nrps.container_json(request.url, chosen)
    link = link_header(request.base_url, request.args, limit, page, len(everyone))
    return _json(body, nrps.MEMBERSHIP_TYPE, link=link)


def _check_accept(media_type: str) -> None:
    """406 unless the client accepts ``media_type`` (or JSON, or anything)."""
    accept = request.accept_mimetypes
    if accept and not accept.best_match([media_type, "application/json"]):
        raise ServiceError("not_acceptable", f"this endpoint answers {media_type}", 406)
