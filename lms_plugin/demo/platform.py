"""The platform's LTI endpoints: discovery, JWKS, OIDC auth, token, deep-link return."""

from flask import current_app
from flask import jsonify
from flask import render_template
from flask import request

from lms_plugin.demo import keys
from lms_plugin.demo.blueprint import bp
from lms_plugin.demo.blueprint import issuer
from lms_plugin.demo.blueprint import registration
from lms_plugin.demo.deep_linking import accept_response
from lms_plugin.demo.dynamic_registration import register_tool
from lms_plugin.demo.dynamic_registration import use_registration_token
from lms_plugin.demo.oauth import SUPPORTED_SCOPES
from lms_plugin.demo.oauth import ServiceError
from lms_plugin.demo.oauth import issue_token
from lms_plugin.demo.oidc import DEEP_LINKING_REQUEST
from lms_plugin.demo.oidc import RESOURCE_LINK_REQUEST
from lms_plugin.demo.oidc import authorize
from lms_plugin.demo.users import current_person


@bp.get("/.well-known/openid-configuration")
def openid_configuration():
    """OpenID configuration with the LTI platform block (LTI DR §3.4)."""
    return jsonify(discovery_document(issuer()))


def discovery_document(iss: str) -> dict:
    """The platform's OpenID Provider configuration."""
    return {
        "issuer": iss,
        "authorization_endpoint": f"{iss}/auth",
        "token_endpoint": f"{iss}/token",
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "jwks_uri": f"{iss}/jwks",
        "registration_endpoint": f"{iss}/register",
        "scopes_supported": ["openid", *sorted(SUPPORTED_SCOPES)],
        "response_types_supported": ["id_token"],
        "response_modes_supported": ["form_post"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": [
            "iss",
            "aud",
            "sub",
            "name",
            "given_name",
            "family_name",
            "email",
        ],
        "https://purl.imsglobal.org/spec/lti-platform-configuration": {
            "product_family_code": "lms_plugin-demo",
            "version": "1.0",
            "messages_supported": [
                {"type": RESOURCE_LINK_REQUEST, "placements": ["course_navigation"]},
                {"type": DEEP_LINKING_REQUEST, "placements": ["link_selection"]},
            ],
            "variables": [],
        },
    }


@bp.get("/jwks")
def jwks():
    """The platform's public key set."""
    response = jsonify(keys.public_jwks())
    response.cache_control.max_age = 300
    return response


@bp.route("/auth", methods=["GET", "POST"])
def auth():
    """OIDC authorization endpoint: answer the tool with a form-posted id_token."""
    redirect_uri, id_token, state = authorize(
        request.values, registration(), issuer(), current_person()
    )
    fields = {"id_token": id_token, "state": state}
    return render_template(
        "demo/autopost.html",
        action=redirect_uri,
        fields=fields,
        what="Opening the tool",
    )


@bp.post("/token")
def token():
    """OAuth2 client_credentials with a private_key_jwt client assertion."""
    body = issue_token(request.form, registration(), f"{issuer()}/token")
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/register")
def register():
    """LTI Dynamic Registration: the tool's client registration request."""
    use_registration_token(request.headers.get("Authorization", ""))
    body = request.get_json(silent=True)
    return jsonify(register_tool(body, issuer()))


@bp.post("/deep-link-return")
def deep_link_return():
    """Receive the tool's LtiDeepLinkingResponse and add the chosen modules."""
    result = accept_response(
        request.form.get("JWT", ""), registration(), issuer(), current_person()
    )
    current_app.logger.info("deep linking added %d link(s)", len(result["added"]))
    return render_template("demo/deep_link_done.html", result=result)


@bp.errorhandler(ServiceError)
def service_error(error: ServiceError):
    """OAuth2/LTI service errors as JSON (RFC 6749 §5.2 shape)."""
    response = jsonify(error=error.error, error_description=error.message)
    if error.status_code == 401:
        response.headers["WWW-Authenticate"] = (
            f'Bearer realm="demo-lms", error="{error.error}"'
        )
    return response, error.status_code
