"""``lms-plugin content …``: validate, publish, preview and digest authored courses.

Thin wrappers: each command parses its arguments, calls one pipeline function and
prints the outcome.
"""

import json
import sys
from collections import Counter
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from peewee import DatabaseError

content_cli = AppGroup("content", help="Validate, publish and preview courses.")

PATH = click.Path(exists=True, file_okay=False, path_type=Path)
LISTED = 20  # ids listed per change kind before "… and N more"


def _path(path: Path | None) -> Path:
    return path or Path(current_app.config["COURSES_DIR"])


def _limits() -> tuple[int, int]:
    """The size limits: (authored file, image), from the configuration."""
    config = current_app.config
    return (
        int(config["CONTENT_MAX_FILE_BYTES"]),
        int(config["CONTENT_MAX_ASSET_BYTES"]),
    )


def _echo_problems(problems) -> None:
    for problem in sorted(problems, key=lambda p: (p.path, p.line)):
        click.echo(str(problem), err=problem.is_error)


def _summary(problems) -> str:
    counts = Counter(p.severity for p in problems)
    return f"{counts['error']} error(s), {counts['warning']} warning(s)"


@content_cli.command("validate")
@click.argument("path", required=False, type=PATH)
@click.option(
    "--strict",
    is_flag=True,
    help="Also run the release checks (review records, bank measures); "
    "warnings fail the check too.",
)
@click.option("--json", "as_json", is_flag=True, help="Print problems as JSON.")
def validate_command(path, strict, as_json) -> None:
    """Check courses (default COURSES_DIR) and list every problem."""
    from lms_plugin.content.validate import validate_path

    problems = validate_path(_path(path), *_limits(), strict=strict)
    if as_json:
        rows = [vars(p) for p in problems]
        click.echo(json.dumps({"problems": rows, "summary": _summary(problems)}))
    else:
        _echo_problems(problems)
        click.echo(_summary(problems))
    if any(p.is_error for p in problems) or (strict and problems):
        sys.exit(1)


@content_cli.command("publish")
@click.argument("path", required=False, type=PATH)
def publish_command(path) -> None:
    """Validate, then publish courses (default COURSES_DIR) into the database."""
    from lms_plugin.content.publish import publish_path

    try:
        reports = publish_path(_path(path), *_limits())
    except DatabaseError as error:  # nothing was committed: one transaction
        message = f"database error, nothing published: {error}"
        raise click.ClickException(message) from error
    for report in reports:
        _echo_problems(report.problems)
        if not report.ok:
            click.echo(f"{report.course}: not published ({_summary(report.problems)})")
            continue
        click.echo(f"{report.course}: published")
        for label, changes in (
            ("added", report.added),
            ("changed", report.changed),
            ("moved", report.moved),
            ("retired", report.retired),
        ):
            _echo_changes(label, changes)
        counts = sorted(report.unchanged.items())
        unchanged = ", ".join(f"{n} {kind}(s)" for kind, n in counts)
        click.echo(f"  unchanged: {unchanged or 'nothing'}")
    if not all(report.ok for report in reports):
        sys.exit(1)


def _echo_changes(label: str, changes) -> None:
    counts = Counter(kind for kind, _ in changes)
    click.echo(
        f"  {label}: "
        + (", ".join(f"{n} {k}(s)" for k, n in sorted(counts.items())) or "nothing")
    )
    for kind, key in changes[:LISTED]:
        click.echo(f"    {kind} {key}")
    if len(changes) > LISTED:
        click.echo(f"    … and {len(changes) - LISTED} more")


@content_cli.command("preview")
@click.argument("path", type=PATH)
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
def preview_command(path, out) -> None:
    """Write a static HTML preview of courses at PATH into OUT for reviewers."""
    from lms_plugin.content.preview import write_preview

    problems, index = write_preview(path, out, *_limits())
    _echo_problems(problems)
    if index is None:
        click.echo(f"no preview written ({_summary(problems)})")
        sys.exit(1)
    click.echo(f"preview written: {index}")


@content_cli.command("digest")
@click.argument("path", type=PATH)
def digest_command(path) -> None:
    """Print the content digest of a module folder, or of each module of a course.

    The value a module's review.yaml records as ``content_digest``.
    """
    from lms_plugin.content.parse import content_digest

    if (path / "module.yaml").is_file():
        click.echo(content_digest(path))
        return
    modules = path / "modules"
    if not (path / "course.yaml").is_file() or not modules.is_dir():
        raise click.UsageError(
            f"{path} is neither a module folder (with module.yaml) nor a course "
            "folder (with course.yaml and modules/)"
        )
    for folder in sorted(p for p in modules.iterdir() if p.is_dir()):
        if not folder.name.startswith("."):
            click.echo(f"{content_digest(folder)}  {folder.name}")
