"""AGS 2.0 on the platform: line items (filters, paging) and validated scores."""

import datetime
import json
import re

import pytest

from lms_plugin.demo.models import ResourceLink
from lms_plugin.demo.models import Score
from lms_plugin.demo.models import demo_database
from tests.demo.support import ISSUER
from tests.demo.support import LINEITEM
from tests.demo.support import SCORE
from tests.demo.support import bearer

READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
RESULTS = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"


@pytest.fixture
def headers(demo_client, tool_key, tool_jwks):
    return bearer(demo_client, tool_key, [LINEITEM, SCORE, RESULTS])


def post_json(client, url, body, headers, media_type):
    return client.post(
        url, data=json.dumps(body), headers={**headers, "Content-Type": media_type}
    )


def create(client, headers, **fields) -> dict:
    body = {"label": "Module 1 quiz", "scoreMaximum": 10, **fields}
    response = post_json(client, "/demo/api/lineitems", body, headers, LINEITEM_TYPE)
    assert response.status_code == 201, response.json
    assert response.mimetype == LINEITEM_TYPE
    return response.json


def path(url: str) -> str:
    return url.removeprefix("http://localhost")


def now(seconds: float = 0) -> str:
    moment = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds)
    return moment.isoformat()


def score(**fields) -> dict:
    body = {
        "userId": "demo-learner-avery",
        "scoreGiven": 8,
        "scoreMaximum": 10,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": now(),
    }
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def test_create_read_update_line_item(demo_client, headers):
    item = create(
        demo_client,
        headers,
        resourceId="m01",
        tag="quiz",
        resourceLinkId="demo-link-welcome",
    )
    assert re.fullmatch(rf"{ISSUER}/api/lineitems/\d+", item["id"])
    assert item["resourceLinkId"] == "demo-link-welcome"
    got = demo_client.get(path(item["id"]), headers=headers).json
    assert got == item
    changed = {**item, "label": "Module 1 quiz (revised)", "scoreMaximum": 20}
    response = demo_client.put(
        path(item["id"]),
        data=json.dumps(changed),
        headers={**headers, "Content-Type": LINEITEM_TYPE},
    )
    assert response.status_code == 200
    assert response.json["label"] == "Module 1 quiz (revised)"
    assert response.json["scoreMaximum"] == 20
    moved = {**changed, "resourceLinkId": "demo-course-navigation"}
    response = demo_client.put(
        path(item["id"]),
        data=json.dumps(moved),
        headers={**headers, "Content-Type": LINEITEM_TYPE},
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "body, text",
    [
        ({"scoreMaximum": 10}, "label"),
        ({"label": "x", "scoreMaximum": 0}, "scoreMaximum"),
        ({"label": "x", "scoreMaximum": "10"}, "scoreMaximum"),
        ({"label": "x", "scoreMaximum": 1, "startDateTime": "soon"}, "ISO 8601"),
    ],
)
def test_invalid_line_items_are_400(demo_client, headers, body, text):
    response = post_json(
        demo_client, "/demo/api/lineitems", body, headers, LINEITEM_TYPE
    )
    assert response.status_code == 400
    assert text in response.json["error_description"]


def test_line_item_for_an_unknown_link_is_404(demo_client, headers):
    body = {"label": "x", "scoreMaximum": 1, "resourceLinkId": "nope"}
    response = post_json(
        demo_client, "/demo/api/lineitems", body, headers, LINEITEM_TYPE
    )
    assert response.status_code == 404


def test_container_filters_and_pages(demo_client, headers):
    a = create(demo_client, headers, resourceId="m01", tag="quiz")
    b = create(demo_client, headers, resourceId="m02", tag="quiz")
    c = create(
        demo_client,
        headers,
        resourceId="m02",
        tag="reflection",
        resourceLinkId="demo-link-welcome",
    )
    url = "/demo/api/lineitems"
    listed = demo_client.get(url, headers=headers)
    assert listed.mimetype == "application/vnd.ims.lis.v2.lineitemcontainer+json"
    assert [i["id"] for i in listed.json] == [a["id"], b["id"], c["id"]]

    def ids(query):
        return [
            i["id"]
            for i in demo_client.get(url, query_string=query, headers=headers).json
        ]

    assert ids({"resource_id": "m02"}) == [b["id"], c["id"]]
    assert ids({"tag": "quiz"}) == [a["id"], b["id"]]
    assert ids({"resource_link_id": "demo-link-welcome"}) == [c["id"]]
    assert ids({"resource_id": "m02", "tag": "quiz"}) == [b["id"]]

    first = demo_client.get(url, query_string={"limit": 2}, headers=headers)
    assert [i["id"] for i in first.json] == [a["id"], b["id"]]
    next_url = re.search(r'<([^>]+)>; rel="next"', first.headers["Link"])[1]
    second = demo_client.get(path(next_url), headers=headers)
    assert [i["id"] for i in second.json] == [c["id"]]
    assert 'rel="next"' not in second.headers["Link"]


def test_readonly_scope_reads_but_cannot_write(demo_client, tool_key, headers):
    create(demo_client, headers)
    readonly = bearer(demo_client, tool_key, [READONLY])
    assert demo_client.get("/demo/api/lineitems", headers=readonly).status_code == 200
    body = {"label": "x", "scoreMaximum": 1}
    response = post_json(
        demo_client, "/demo/api/lineitems", body, readonly, LINEITEM_TYPE
    )
    assert response.status_code == 403


def test_scores_are_stored_and_shown_in_the_gradebook(demo_client, headers):
    item = create(demo_client, headers)
    url = path(item["id"]) + "/scores"
    sent = score(comment="Well reasoned.")
    response = post_json(demo_client, url, sent, headers, SCORE_TYPE)
    assert response.status_code == 204, response.data
    with demo_database.connection_context():
        stored = Score.get()
        assert (stored.score_given, stored.score_maximum) == (8, 10)
        assert stored.timestamp_sent == sent["timestamp"]
    page = demo_client.get("/demo/").get_data(as_text=True)
    assert "Module 1 quiz" in page and "8 / 10" in page
    assert sent["timestamp"] in page and "Well reasoned." in page
    results = demo_client.get(path(item["id"]) + "/results", headers=headers).json
    assert results == [
        {
            "id": f"{item['id']}/results/{stored.id}",
            "scoreOf": item["id"],
            "userId": "demo-learner-avery",
            "resultScore": 8.0,
            "resultMaximum": 10.0,
            "comment": "Well reasoned.",
        }
    ]


def test_an_older_timestamp_is_refused_with_400(demo_client, headers):
    item = create(demo_client, headers)
    url = path(item["id"]) + "/scores"
    newer = score(scoreGiven=9, timestamp=now())
    assert post_json(demo_client, url, newer, headers, SCORE_TYPE).status_code == 204
    older = score(scoreGiven=2, timestamp=now(-60))
    response = post_json(demo_client, url, older, headers, SCORE_TYPE)
    assert response.status_code == 400
    assert "older than the stored score" in response.json["error_description"]
    later = score(scoreGiven=10, timestamp=now(5))
    assert post_json(demo_client, url, later, headers, SCORE_TYPE).status_code == 204
    with demo_database.connection_context():
        [stored] = Score.select()
        assert stored.score_given == 10


@pytest.mark.parametrize(
    "fields, status, text",
    [
        ({"userId": "demo-instructor-morgan"}, 422, "not a learner"),
        ({"userId": "nobody"}, 422, "not a learner"),
        ({"userId": None}, 400, "userId"),
        ({"scoreGiven": 11}, 400, "exceeds scoreMaximum"),
        ({"scoreGiven": -1}, 400, "negative"),
        ({"scoreMaximum": None}, 400, "scoreMaximum is required"),
        ({"scoreGiven": "8"}, 400, "scoreGiven must be a number"),
        ({"activityProgress": "Done"}, 400, "activityProgress"),
        ({"gradingProgress": None}, 400, "gradingProgress"),
        ({"timestamp": None}, 400, "timestamp"),
        ({"timestamp": "yesterday"}, 400, "ISO 8601"),
        ({"timestamp": "2026-11-24T10:00:00"}, 400, "time zone"),
    ],
)
def test_invalid_scores(demo_client, headers, fields, status, text):
    item = create(demo_client, headers)
    url = path(item["id"]) + "/scores"
    response = post_json(demo_client, url, score(**fields), headers, SCORE_TYPE)
    assert response.status_code == status
    assert text in response.json["error_description"]
    with demo_database.connection_context():
        assert Score.select().count() == 0


def test_progress_without_a_score_is_accepted(demo_client, headers):
    item = create(demo_client, headers)
    url = path(item["id"]) + "/scores"
    body = score(
        scoreGiven=None,
        scoreMaximum=None,
        activityProgress="Started",
        gradingProgress="NotReady",
    )
    assert post_json(demo_client, url, body, headers, SCORE_TYPE).status_code == 204
    assert "Started, NotReady" in demo_client.get("/demo/").get_data(as_text=True)


def test_score_request_shape_errors(demo_client, headers, tool_key):
    item = create(demo_client, headers)
    url = path(item["id"]) + "/scores"
    wrong_type = post_json(demo_client, url, score(), headers, "text/plain")
    assert wrong_type.status_code == 415
    broken = demo_client.post(
        url, data="{not json", headers={**headers, "Content-Type": SCORE_TYPE}
    )
    assert broken.status_code == 400
    missing = post_json(
        demo_client, "/demo/api/lineitems/999/scores", score(), headers, SCORE_TYPE
    )
    assert missing.status_code == 404
    readonly = bearer(demo_client, tool_key, [READONLY])
    assert post_json(demo_client, url, score(), readonly, SCORE_TYPE).status_code == 403


def test_deleting_a_link_keeps_its_column(demo_client, headers):
    item = create(demo_client, headers, resourceLinkId="demo-link-welcome")
    with demo_database.connection_context():
        ResourceLink.delete().where(
            ResourceLink.link_id == "demo-link-welcome"
        ).execute()
    got = demo_client.get(path(item["id"]), headers=headers).json
    assert "resourceLinkId" not in got
