"""LTI role vocabulary → the tool's roles (pure mapping, no app)."""

import pytest

from lms_plugin.lti.roles import ADMINISTRATOR
from lms_plugin.lti.roles import CONTENT_DEVELOPER
from lms_plugin.lti.roles import INSTRUCTOR
from lms_plugin.lti.roles import LEARNER
from lms_plugin.lti.roles import TEACHING_ASSISTANT
from lms_plugin.lti.roles import map_roles

V2 = "http://purl.imsglobal.org/vocab/lis/v2/"


@pytest.mark.parametrize(
    ("sent", "granted"),
    [
        ([V2 + "membership#Learner"], {LEARNER}),
        ([V2 + "membership#Instructor"], {INSTRUCTOR}),
        ([V2 + "membership/Instructor#TeachingAssistant"], {TEACHING_ASSISTANT}),
        (
            [
                V2 + "membership#Instructor",
                V2 + "membership/Instructor#TeachingAssistant",
            ],
            {INSTRUCTOR, TEACHING_ASSISTANT},
        ),
        ([V2 + "membership/Learner#NonCreditLearner"], {LEARNER}),
        ([V2 + "membership#ContentDeveloper"], {CONTENT_DEVELOPER}),
        ([V2 + "membership#Administrator"], {ADMINISTRATOR}),
        ([V2 + "institution/person#Administrator"], {ADMINISTRATOR}),
        ([V2 + "system/person#SysAdmin"], {ADMINISTRATOR}),
        ([V2 + "system/person#Administrator"], {ADMINISTRATOR}),
        (["Learner"], {LEARNER}),
        (["Instructor"], {INSTRUCTOR}),
        (["ContentDeveloper"], {CONTENT_DEVELOPER}),
        (["urn:lti:role:ims/lis/Instructor"], {INSTRUCTOR}),
        (["urn:lti:role:ims/lis/Instructor/TeachingAssistant"], {TEACHING_ASSISTANT}),
        (["urn:lti:sysrole:ims/lis/Administrator"], {ADMINISTRATOR}),
        # An institution role says nothing about this course.
        ([V2 + "institution/person#Faculty"], set()),
        ([V2 + "institution/person#Student"], set()),
        ([V2 + "institution/person#Instructor"], set()),
        ([V2 + "membership#Mentor"], set()),
        (["http://example.com/roles#Wizard"], set()),
        ([""], set()),
        ([], set()),
        (None, set()),
        ([None, 7], set()),
        ([V2 + "membership#Learner", "Mystery", V2 + "membership#Learner"], {LEARNER}),
    ],
)
def test_map_roles(sent, granted):
    assert map_roles(sent) == granted
