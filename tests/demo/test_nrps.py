"""NRPS 2.0: the roster as a paged membership container."""

import re

from tests.demo.support import ISSUER
from tests.demo.support import NRPS
from tests.demo.support import bearer

MEMBERSHIP_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


def next_link(response) -> str | None:
    match = re.search(r'<([^>]+)>; rel="next"', response.headers.get("Link", ""))
    return match[1] if match else None


def test_members_come_two_a_page(demo_client, tool_key, tool_jwks):
    headers = {**bearer(demo_client, tool_key, [NRPS]), "Accept": MEMBERSHIP_TYPE}
    first = demo_client.get("/demo/api/memberships", headers=headers)
    assert first.status_code == 200
    assert first.mimetype == MEMBERSHIP_TYPE
    assert first.json["context"]["id"] == "demo-course-nur510"
    assert len(first.json["members"]) == 2
    url = next_link(first)
    assert url.startswith(f"{ISSUER}/api/memberships?")
    second = demo_client.get(url, headers=headers)
    assert len(second.json["members"]) == 1
    assert next_link(second) is None
    members = first.json["members"] + second.json["members"]
    roles = {m["user_id"]: m["roles"] for m in members}
    assert roles == {
        "demo-learner-avery": [
            "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
        ],
        "demo-learner-jordan": [
            "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
        ],
        "demo-instructor-morgan": [
            "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
        ],
    }
    assert all(m["status"] == "Active" and "@" in m["email"] for m in members)


def test_role_filter_keeps_its_paging(demo_client, tool_key, tool_jwks):
    headers = bearer(demo_client, tool_key, [NRPS])
    response = demo_client.get("/demo/api/memberships?role=Learner", headers=headers)
    assert {m["user_id"] for m in response.json["members"]} == {
        "demo-learner-avery",
        "demo-learner-jordan",
    }
    assert next_link(response) is None
    instructor = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
    response = demo_client.get(
        "/demo/api/memberships", query_string={"role": instructor}, headers=headers
    )
    assert [m["user_id"] for m in response.json["members"]] == [
        "demo-instructor-morgan"
    ]


def test_unacceptable_media_type_is_406(demo_client, tool_key, tool_jwks):
    headers = {**bearer(demo_client, tool_key, [NRPS]), "Accept": "text/csv"}
    response = demo_client.get("/demo/api/memberships", headers=headers)
    assert response.status_code == 406
    assert response.json["error"] == "not_acceptable"
