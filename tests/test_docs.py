"""README stays honest: every config key and CLI command is documented, and
every documented one exists."""

import re
from pathlib import Path

import click

from lms_plugin.cli import main
from lms_plugin.config import DEFAULTS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _cli_commands(app) -> set[str]:
    """Every leaf command as 'group sub', from the app's CLI."""
    found = set()

    def walk(group, prefix):
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                walk(command, f"{prefix}{name} ")
            else:
                found.add(f"{prefix}{name}")

    walk(main, "")
    walk(app.cli, "")
    return found


def test_every_config_key_is_in_readme():
    missing = [key for key in DEFAULTS if f"`{key}`" not in README]
    assert not missing, f"undocumented configuration keys: {missing}"


def test_every_documented_config_key_exists():
    table = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)`", table, re.M))
    assert documented, "no configuration table found"
    assert documented <= set(DEFAULTS), documented - set(DEFAULTS)


def test_every_cli_command_is_in_readme(app):
    missing = [c for c in _cli_commands(app) if f"`lms-plugin {c}" not in README]
    assert not missing, f"undocumented commands: {missing}"


def test_every_documented_cli_command_exists(app):
    documented = set(
        re.findall(r"`lms-plugin ([a-z][a-z-]*(?: [a-z][a-z-]*)?)", README)
    )
    commands = _cli_commands(app)
    groups = {c.split()[0] for c in commands}
    unknown = {d for d in documented if d not in commands and d not in groups}
    assert not unknown, f"README documents commands that do not exist: {unknown}"
