"""`lms-plugin platform add|list|deployments|activate|deactivate`."""

import pytest

from lms_plugin.models.lti import LtiDeployment
from lms_plugin.models.lti import LtiRegistration

CANVAS = [
    "--issuer",
    "https://canvas.instructure.com",
    "--client-id",
    "10000000000001",
    "--auth-login-url",
    "https://sso.canvaslms.com/api/lti/authorize_redirect",
    "--auth-token-url",
    "https://sso.canvaslms.com/login/oauth2/token",
    "--key-set-url",
    "https://sso.canvaslms.com/api/lti/security/jwks",
]


def add(runner, *extra, base=CANVAS):
    return runner.invoke(args=["platform", "add", *base, *extra])


def test_add_creates_registration_and_deployments(runner):
    result = add(runner, "--deployment-id", "1:abc", "--deployment-id", "2:def")
    assert result.exit_code == 0, result.output
    assert "added registration" in result.output

    registration = LtiRegistration.get()
    assert registration.client_id == "10000000000001"
    assert registration.platform_family == "canvas"  # guessed from the issuer
    assert registration.source == "manual"
    assert registration.name == "canvas.instructure.com"
    ids = sorted(d.deployment_id for d in registration.deployments)
    assert ids == ["1:abc", "2:def"]
    assert all(d.is_active for d in registration.deployments)


def test_add_again_updates_in_place(runner):
    assert add(runner, "--deployment-id", "1:abc").exit_code == 0
    first_id = LtiRegistration.get().id
    result = add(
        runner,
        "--deployment-id",
        "1:abc",
        "--deployment-id",
        "3:ghi",
        "--name",
        "Example University",
        "--family",
        "canvas",
    )
    assert result.exit_code == 0, result.output
    assert "updated registration" in result.output
    registration = LtiRegistration.get()
    assert registration.id == first_id
    assert registration.name == "Example University"
    assert LtiRegistration.select().count() == 1
    assert LtiDeployment.select().count() == 2


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--issuer", "http://canvas.instructure.com", "must use https"),
        ("--auth-login-url", "sso.canvaslms.com/authorize", "absolute URL"),
        (
            "--key-set-url",
            "https://user:pw@lms.example.edu/jwks",
            "without credentials",
        ),
        ("--auth-token-url", "ftp://lms.example.edu/token", "must use https"),
        ("--client-id", "   ", "must not be empty"),
    ],
)
def test_add_rejects_bad_input_and_stores_nothing(runner, option, value, message):
    args = list(CANVAS)
    args[args.index(option) + 1] = value
    result = add(runner, base=args)
    assert result.exit_code != 0
    assert message in result.output
    assert LtiRegistration.select().count() == 0


def test_add_reports_every_problem_at_once(runner):
    args = list(CANVAS)
    args[args.index("--issuer") + 1] = "http://canvas.instructure.com"
    args[args.index("--key-set-url") + 1] = "jwks"
    result = add(runner, "--deployment-id", " ", base=args)
    assert result.exit_code != 0
    assert "Issuer must use https" in result.output
    assert "Key set (JWKS) URL" in result.output
    assert "Deployment id must not be empty" in result.output
    assert LtiRegistration.select().count() == 0


def test_add_rejects_an_overlong_deployment_id(runner):
    result = add(runner, "--deployment-id", "x" * 300)
    assert result.exit_code != 0
    assert "longer than 255" in result.output
    assert LtiRegistration.select().count() == 0


def test_add_rejects_an_unknown_family(runner):
    result = add(runner, "--family", "blackboard")
    assert result.exit_code != 0
    assert "blackboard" in result.output


def test_add_requires_the_endpoints(runner):
    result = runner.invoke(
        args=["platform", "add", "--issuer", "https://x.example", "--client-id", "1"]
    )
    assert result.exit_code != 0
    assert "--auth-login-url" in result.output


def test_http_localhost_needs_debug_testing_or_the_flag(make_app):
    local = [
        "--issuer",
        "http://localhost:8000",
        "--client-id",
        "dev",
        "--auth-login-url",
        "http://localhost:8000/mod/lti/auth.php",
        "--auth-token-url",
        "http://localhost:8000/mod/lti/token.php",
        "--key-set-url",
        "http://localhost:8000/mod/lti/certs.php",
    ]
    strict = make_app(TESTING=False).test_cli_runner()
    assert add(strict, base=local).exit_code != 0
    relaxed = make_app(TESTING=False, LTI_ALLOW_HTTP_LOCALHOST=True).test_cli_runner()
    assert add(relaxed, "--family", "moodle", base=local).exit_code == 0


def test_list_shows_registrations_and_tool_urls(make_app):
    runner = make_app(BASE_URL="https://tool.example.edu").test_cli_runner()
    add(runner, "--deployment-id", "1:abc")
    LtiDeployment.create(
        registration=LtiRegistration.get(), deployment_id="9:held", is_active=False
    )

    result = runner.invoke(args=["platform", "list"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Registrations: 1" in out
    assert "client_id    10000000000001" in out
    assert "1:abc: active" in out
    assert "9:held: HELD" in out
    assert "https://tool.example.edu/lti/login" in out
    assert "https://tool.example.edu/lti/register" in out
    assert "https://tool.example.edu/lti/config/canvas.json" in out


def test_list_takes_base_url_option_and_says_when_it_has_none(runner):
    result = runner.invoke(args=["platform", "list"])
    assert result.exit_code == 0
    assert "set BASE_URL or pass --base-url" in result.output

    result = runner.invoke(args=["platform", "list", "--base-url", "https://t.example"])
    assert "https://t.example/lti/jwks" in result.output

    result = runner.invoke(args=["platform", "list", "--base-url", "t.example"])
    assert result.exit_code != 0


def test_held_deployment_is_activated_and_deactivated(runner):
    add(runner)
    LtiDeployment.create(
        registration=LtiRegistration.get(), deployment_id="9:held", is_active=False
    )
    held = runner.invoke(args=["platform", "deployments", "--held"])
    assert "9:held\theld" in held.output

    result = runner.invoke(args=["platform", "activate", "9:held"])
    assert result.exit_code == 0, result.output
    assert LtiDeployment.get(deployment_id="9:held").is_active
    assert (
        "No held deployments."
        in runner.invoke(args=["platform", "deployments", "--held"]).output
    )

    result = runner.invoke(args=["platform", "deactivate", "9:held"])
    assert result.exit_code == 0
    assert not LtiDeployment.get(deployment_id="9:held").is_active


def test_activate_unknown_or_ambiguous_deployment_fails(runner):
    result = runner.invoke(args=["platform", "activate", "nope"])
    assert result.exit_code != 0
    assert "No deployment 'nope'" in result.output

    add(runner, "--deployment-id", "1")
    other = list(CANVAS)
    other[other.index("--client-id") + 1] = "10000000000002"
    add(runner, "--deployment-id", "1", base=other)
    LtiDeployment.update(is_active=False).execute()

    result = runner.invoke(args=["platform", "activate", "1"])
    assert result.exit_code != 0
    assert "--client-id" in result.output
    assert LtiDeployment.select().where(LtiDeployment.is_active).count() == 0

    result = runner.invoke(
        args=["platform", "activate", "1", "--client-id", "10000000000002"]
    )
    assert result.exit_code == 0, result.output
    active = LtiDeployment.select().where(LtiDeployment.is_active)
    assert [d.registration.client_id for d in active] == ["10000000000002"]


def test_readme_documents_platform_commands_and_settings():
    from lms_plugin.config import PROJECT_ROOT
    from lms_plugin.lti.registration.cli import platform_cli

    readme = (PROJECT_ROOT / "README.md").read_text()
    for name in platform_cli.commands:
        if name != "deactivate":  # documented beside activate
            assert f"`lms-plugin platform {name}" in readme, name
    assert "`deactivate`" in readme
    for key in (
        "BASE_URL",
        "LTI_ALLOW_HTTP_LOCALHOST",
        "LTI_REGISTRATION_ALLOWED_ISSUERS",
    ):
        assert f"| `{key}` |" in readme, key
    assert "## Install in Canvas" in readme and "## Install in Moodle" in readme
