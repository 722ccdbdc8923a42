"""Map LTI role URIs to the tool's own roles. Pure: no Flask, no database.

Vocabulary: LTI 1.3 Appendix A (https://www.imsglobal.org/spec/lti/v1p3/#role-vocabularies).
Course roles come from *context* roles only (full URI, sub-role URI, or the short
name LTI 1.3 still allows for context roles, e.g. "Learner"); an institution role
such as "Faculty" says nothing about this course. Administrator may come from the
context, institution or system vocabularies. Unknown roles are ignored.
"""

LEARNER = "learner"
INSTRUCTOR = "instructor"
TEACHING_ASSISTANT = "teaching_assistant"
CONTENT_DEVELOPER = "content_developer"
ADMINISTRATOR = "administrator"
ROLES = (LEARNER, INSTRUCTOR, TEACHING_ASSISTANT, CONTENT_DEVELOPER, ADMINISTRATOR)
#: The course staff: they see the instructor view and choose a link's module.
STAFF = (INSTRUCTOR, TEACHING_ASSISTANT, ADMINISTRATOR)

_CONTEXT = "http://purl.imsglobal.org/vocab/lis/v2/membership"
_INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
_SYSTEM = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"
_LIS1_CONTEXT = "urn:lti:role:ims/lis/"
_LIS1_ADMIN = ("urn:lti:instrole:ims/lis/Administrator", "urn:lti:sysrole:ims/lis/")

#: Context role (principal or sub-role name) -> tool role.
_CONTEXT_ROLES = {
    "Learner": LEARNER,
    "Instructor": INSTRUCTOR,
    "TeachingAssistant": TEACHING_ASSISTANT,
    "ContentDeveloper": CONTENT_DEVELOPER,
    "Administrator": ADMINISTRATOR,
}
_ADMIN_NAMES = ("Administrator", "SysAdmin")


def map_roles(uris: list[str] | None) -> set[str]:
    """Return the tool roles granted by a launch's roles claim."""
    granted = set()
    for uri in uris or []:
        role = _map_one(uri.strip() if isinstance(uri, str) else "")
        if role:
            granted.add(role)
    return granted


def _map_one(uri: str) -> str | None:
    if uri.startswith(_CONTEXT):
        return _context_role(uri[len(_CONTEXT) :])
    if uri.startswith((_INSTITUTION, _SYSTEM)):
        return ADMINISTRATOR if uri.rsplit("#", 1)[1] in _ADMIN_NAMES else None
    if uri.startswith(_LIS1_CONTEXT):
        return _CONTEXT_ROLES.get(uri[len(_LIS1_CONTEXT) :].split("/")[-1])
    if uri.startswith(_LIS1_ADMIN):
        return ADMINISTRATOR if uri.rsplit("/", 1)[1] in _ADMIN_NAMES else None
    return _CONTEXT_ROLES.get(uri)  # short context role name, or unknown


def _context_role(rest: str) -> str | None:
    """``#Instructor`` or a sub-role ``/Instructor#TeachingAssistant``."""
    if rest.startswith("#"):
        return _CONTEXT_ROLES.get(rest[1:])
    principal, _, sub_role = rest.lstrip("/").partition("#")
    if sub_role == "TeachingAssistant":
        return TEACHING_ASSISTANT
    return _CONTEXT_ROLES.get(principal)
