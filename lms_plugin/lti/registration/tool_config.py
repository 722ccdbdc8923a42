"""pylti1p3's tool configuration over the database: registrations and deployments.

An issuer may have many client_ids (every Canvas cloud institution shares one
issuer), so registrations are always found by (issuer, client_id). A deployment
we have not seen, of a registration we know, is recorded; it is accepted or held
for an administrator according to ``LTI_UNKNOWN_DEPLOYMENTS``.
"""

import json
import logging

from flask import current_app
from pylti1p3.deployment import Deployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config import ToolConfAbstract

from lms_plugin.errors import LaunchError
from lms_plugin.lti.registration import keys
from lms_plugin.models.lti import LtiDeployment
from lms_plugin.models.lti import LtiRegistration

log = logging.getLogger(__name__)

ACCEPT = "accept"
HOLD = "hold"


class DbRegistration(Registration):
    """A pylti1p3 registration that remembers its row and signs with our keys."""

    def __init__(self, row: LtiRegistration):
        self.row = row
        self._signing = None  # read when something is signed, not on every launch
        (
            self.set_issuer(row.issuer)
            .set_client_id(row.client_id)
            .set_auth_login_url(row.auth_login_url)
            .set_auth_token_url(row.auth_token_url)
            .set_key_set_url(row.key_set_url)
            .set_key_set(json.loads(row.key_set) if row.key_set else None)
        )
        if row.auth_audience:
            self.set_auth_audience(row.auth_audience)

    def _signing_key(self):
        if self._signing is None:
            self._signing = keys.signing_key()
        return self._signing

    def get_tool_private_key(self) -> str:
        return self._signing_key().private_pem

    def get_kid(self) -> str:
        return self._signing_key().kid

    def get_jwks(self) -> list[dict]:
        return keys.public_jwks()["keys"]


class DbToolConf(ToolConfAbstract):
    """Registrations and deployments read from (and recorded in) the database."""

    def __init__(self):
        super().__init__()
        self.registration_row: LtiRegistration | None = None
        self.deployment_row: LtiDeployment | None = None
        # pylti1p3 asks for the same registration several times per launch.
        self._found: dict[tuple, LtiRegistration | None] = {}

    def _registration_row(self, iss, client_id) -> LtiRegistration | None:
        if (iss, client_id) not in self._found:
            self._found[iss, client_id] = find_registration_row(iss, client_id)
        return self._found[iss, client_id]

    # pylti1p3 keeps a class-level issuer map; we always work per (iss, client_id).
    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def find_registration_by_issuer(self, iss, *args, **kwargs):
        return self.find_registration_by_params(iss, None)

    def find_registration_by_params(self, iss, client_id, *args, **kwargs):
        row = self._registration_row(iss, client_id)
        if row is None:
            return None
        self.registration_row = row
        return DbRegistration(row)

    def find_deployment(self, iss, deployment_id):
        raise NotImplementedError("deployments are found by (iss, client_id)")

    def find_deployment_by_params(self, iss, deployment_id, client_id, *args, **kwargs):
        registration = self._registration_row(iss, client_id)
        if registration is None or not deployment_id:
            return None
        row = record_deployment(registration, deployment_id)
        if not row.is_active:
            raise held_deployment_error(registration, deployment_id)
        self.deployment_row = row
        return Deployment().set_deployment_id(deployment_id)


def find_registration_row(iss: str, client_id: str | None) -> LtiRegistration | None:
    """The active registration for (iss, client_id), or the issuer's only one."""
    return LtiRegistration.active_for(iss, client_id)


def record_deployment(registration: LtiRegistration, deployment_id: str):
    """Return the deployment row, creating it per LTI_UNKNOWN_DEPLOYMENTS if new."""
    row = LtiDeployment.find(registration, deployment_id)
    if row is not None:
        return row
    policy = current_app.config["LTI_UNKNOWN_DEPLOYMENTS"]
    LtiDeployment.insert_absent(
        registration=registration,
        deployment_id=deployment_id,
        is_active=policy == ACCEPT,
    )
    return LtiDeployment.find(registration, deployment_id)


def held_deployment_error(registration: LtiRegistration, deployment_id: str):
    """The 403 a learner sees while an administrator has not accepted a deployment."""
    log.warning(
        "LTI deployment held: iss=%s client_id=%s deployment_id=%s",
        registration.issuer,
        registration.client_id,
        deployment_id,
    )
    return LaunchError(
        "This course's connection to the tool is waiting for approval by the "
        "tool's administrator. Please try again later, or tell your instructor.",
        detail=(
            f"Deployment {deployment_id!r} of registration {registration.issuer} / "
            f"client_id {registration.client_id} is held (new deployments are "
            "held when LTI_UNKNOWN_DEPLOYMENTS = 'hold'). Let its launches through "
            "with lms-plugin platform deployments --held, then platform activate ID."
        ),
        status_code=403,
        title="Deployment waiting for approval",
    )
