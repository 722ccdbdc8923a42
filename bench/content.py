"""Benchmark the content pipeline on a synthetic course (1,000 modules, 20,000 items).

Beside the pipeline it times merely reading the same files (open + read, then YAML
load), so the figures read as ratios. Every stage runs in a fresh subprocess, so the
peak resident memory it reports (ru_maxrss) belongs to that stage alone.

    python bench/content.py [--modules 1000] [--questions 20]
        [--postgres postgresql://postgres@127.0.0.1:5432/bench_db]

The PostgreSQL database given is emptied first. Run from the repository root.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("read", "yaml", "validate", "publish", "republish", "change-one")


def _option(letter: str, correct: bool, n: int) -> str:
    # Vary lengths so the key is not always the longest option.
    text = f"Option {letter} for item {n}" + (
        " with more words" * ((n + ord(letter)) % 3)
    )
    return (
        f'      - {{id: {letter}, text: "{text}", correct: {str(correct).lower()}, '
        f'feedback: "Feedback for {letter} on item {n}."}}\n'
    )


def _question(module: int, n: int) -> str:
    objective = f"b{module:04d}-o{n % 2 + 1}"
    key = "abcd"[n % 4]
    options = "".join(_option(letter, letter == key, n) for letter in "abcd")
    return (
        f"  - id: b{module:04d}-q{n:03d}\n    type: single\n"
        f"    objective: {objective}\n"
        f"    bloom: apply\n    difficulty: medium\n    stem: |\n"
        f"      A fictional trainee, scenario {n}, faces a decision on the ward.\n\n"
        f"      What is the most appropriate next step?\n    options:\n{options}"
        f"    rationale: |\n      Because of the principle in [@ref-{module:04d}].\n"
        f"    references: [ref-{module:04d}]\n"
    )


def generate(root: Path, modules: int, questions: int) -> Path:
    """Write a synthetic, valid course; return its folder."""
    course = root / "bench-course"
    ids = [f"b{m:04d}-module" for m in range(modules)]
    (course / "modules").mkdir(parents=True)
    (course / "course.yaml").write_text(
        "id: bench-course\ntitle: Benchmark course\nsummary: Synthetic.\n"
        "modules:\n" + "".join(f"  - {i}\n" for i in ids)
    )
    for m, module_id in enumerate(ids):
        folder = course / "modules" / module_id
        folder.mkdir()
        _write_module(folder, m, module_id, questions)
    return course


def _write_module(folder: Path, m: int, module_id: str, questions: int) -> None:
    (folder / "module.yaml").write_text(
        f"id: {module_id}\ntitle: Module {m}\nsummary: Module {m} summary.\n"
        "est_minutes: 40\nobjectives:\n"
        f"  - {{id: b{m:04d}-o1, text: Explain idea one., bloom: understand}}\n"
        f"  - {{id: b{m:04d}-o2, text: Apply idea two., bloom: apply}}\n"
    )
    (folder / "references.yaml").write_text(
        f'- key: ref-{m:04d}\n  citation: "Author A. Title {m}. J Med. 2020;1:1-2."\n'
        f"  url: https://doi.org/10.1000/{m}\n"
    )
    for p in range(3):
        (folder / f"0{p + 1}-page-{p}.md").write_text(
            f"---\nid: b{m:04d}-p{p}\ntitle: Page {p}\ntype: lesson\nest_minutes: 10\n"
            f"objectives: [b{m:04d}-o{p % 2 + 1}]\nreferences: [ref-{m:04d}]\n---\n\n"
            f"## Section\n\nText of page {p} [@ref-{m:04d}].\n\n"
            "::: pearl\nA pearl.\n:::\n"
            + "\nA paragraph of **lesson** text with a [link](https://example.org).\n"
            * 8
        )
    (folder / "quiz.yaml").write_text(
        f"id: b{m:04d}-quiz\ntitle: Quiz {m}\nest_minutes: 10\ndraw:\n"
        f"  - {{objective: b{m:04d}-o1, count: 3}}\n"
        f"  - {{objective: b{m:04d}-o2, count: 3}}\n"
    )
    (folder / "bank.yaml").write_text(
        "questions:\n" + "".join(_question(m, n) for n in range(questions))
    )


# --- stages (each runs in its own process) ---------------------------------


def stage_read(course: Path, _url) -> dict:
    files = [p for p in course.rglob("*") if p.is_file()]
    size = sum(len(p.read_bytes()) for p in files)
    return {"files": len(files), "bytes": size}


def stage_yaml(course: Path, _url) -> dict:
    import yaml

    from lms_plugin.content.parse import split_front_matter  # imported already

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for path in course.rglob("*"):
        if path.suffix == ".yaml":
            yaml.load(path.read_text(), Loader=loader)
        elif path.suffix == ".md":
            yaml.load(split_front_matter(path.read_text())[0], Loader=loader)
    return {}


def stage_validate(course: Path, _url) -> dict:
    from lms_plugin.content.validate import validate_path

    problems = validate_path(course)
    errors = [str(p) for p in problems if p.is_error]
    assert not errors, errors[:5]
    return {"problems": len(problems)}


def _app(url: str):
    from lms_plugin import create_app

    instance = tempfile.mkdtemp(prefix="bench-instance-")
    return create_app(
        {"DATABASE_URL": url, "AUTO_PUBLISH": False, "INSTANCE_PATH": instance}
    )


def _publish(course: Path, url: str) -> dict:
    from lms_plugin.content.publish import publish_course

    with _app(url).app_context():
        report = publish_course(course)
    assert report.ok, [str(p) for p in report.problems if p.is_error][:5]
    return {
        "added": len(report.added),
        "changed": len(report.changed),
        "unchanged": sum(report.unchanged.values()),
    }


def stage_publish(course: Path, url: str) -> dict:
    return _publish(course, url)


def stage_republish(course: Path, url: str) -> dict:
    return _publish(course, url)


def stage_change_one(course: Path, url: str) -> dict:
    middle = len(list((course / "modules").iterdir())) // 2
    bank = course / "modules" / f"b{middle:04d}-module" / "bank.yaml"
    text = bank.read_text()
    old, new = ("scenario 7,", "scenario seven,")
    if old not in text:  # a previous run changed it: change it back
        old, new = new, old
    bank.write_text(text.replace(old, new, 1))
    return _publish(course, url)


def run_stage(stage: str, course: Path, url: str | None) -> dict:
    """Run one stage here; return its seconds, peak memory and details."""
    handler = globals()[f"stage_{stage.replace('-', '_')}"]
    if url:
        _app(url)  # migrate (and import) before the clock starts
    else:
        import lms_plugin.content.validate  # noqa: F401  imports outside the clock
    cpu_before, started = _cpu(), time.perf_counter()
    details = handler(course, url)
    seconds, cpu = time.perf_counter() - started, _cpu() - cpu_before
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "stage": stage, "seconds": seconds, "cpu": cpu, "peak_mb": peak_kb / 1024,
        **details,
    }  # fmt: skip


def _cpu() -> float:
    # CPU seconds of this process: steadier than wall time on a busy machine.
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _spawn(stage: str, course: Path, url: str | None) -> dict:
    command = [sys.executable, __file__, "--stage", stage, "--course", str(course)]
    if url:
        command += ["--url", url]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _reset_postgres(url: str) -> None:
    import psycopg

    conn = psycopg.connect(url, autocommit=True)
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=1000)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument(
        "--postgres", default=os.environ.get("LMS_PLUGIN_BENCH_POSTGRES_URL")
    )
    parser.add_argument("--stage", choices=STAGES)
    parser.add_argument("--course", type=Path)
    parser.add_argument("--url")
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(run_stage(args.stage, args.course, args.url)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-content-") as tmp:
        report(Path(tmp), args)


def report(tmp: Path, args) -> None:
    """Generate the course, run every stage, print a table and ratios."""
    course = generate(tmp, args.modules, args.questions)
    print(f"course: {args.modules} modules, {args.modules * args.questions} questions")
    base = {s: _spawn(s, course, None) for s in ("read", "yaml", "validate")}
    print(f"files: {base['read']['files']}, {base['read']['bytes'] / 1e6:.1f} MB")
    print(
        f"{'stage':22} {'wall':>10} {'CPU':>10} {'peak':>9}  x YAML load (wall / CPU)"
    )
    _row("read (open+read)", base["read"])
    _row("read + YAML load", base["yaml"])
    _row("validate", base["validate"], base["yaml"])
    databases = {"SQLite": f"sqlite:///{tmp / 'bench.sqlite3'}"}
    if args.postgres:
        databases["PostgreSQL"] = args.postgres
    for name, url in databases.items():
        if url.startswith("postgres"):
            _reset_postgres(url)
        for stage in ("publish", "republish", "change-one"):
            result = _spawn(stage, course, url)
            _row(f"{name} {stage}", result, base["yaml"])


def _row(label: str, result: dict, versus: dict | None = None) -> None:
    ratio = ""
    if versus:
        wall = result["seconds"] / versus["seconds"]
        ratio = f"  {wall:5.1f}x / {result['cpu'] / versus['cpu']:5.1f}x"
    shown = ("stage", "seconds", "cpu", "peak_mb")
    extra = {k: v for k, v in result.items() if k not in shown}
    print(
        f"{label:22} {result['seconds']:8.2f} s {result['cpu']:8.2f} s "
        f"{result['peak_mb']:6.0f} MB{ratio}  {extra or ''}"
    )


if __name__ == "__main__":
    main()
