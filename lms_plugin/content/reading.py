"""Reading course files: size and UTF-8 checks, and YAML that keeps line numbers.

Nothing here raises on bad input: a missing, oversized or non-UTF-8 file, malformed
YAML or a key given twice becomes a :class:`Problem` with file and line. Parsed
mappings are :class:`Node` dicts and lists :class:`NodeList` (``data.py``), which
remember the line of every key and item, so any stage can point an author at the
exact line of a problem. The course structure built from these files is
``parse.py``'s.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from lms_plugin.content.data import Node
from lms_plugin.content.data import NodeList
from lms_plugin.content.data import Problem

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_BaseLoader):
    """Safe YAML loading that keeps line numbers and reports duplicate keys."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[tuple[str, int]] = []


def _key_text(key) -> str:
    # YAML reads `true:` as a boolean key; FORMAT.md means the word.
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def _construct_mapping(loader: _LineLoader, node) -> Node:
    loader.flatten_mapping(node)
    mapping = Node(line=node.start_mark.line + 1)
    for key_node, value_node in node.value:
        key = _key_text(loader.construct_object(key_node, deep=True))
        line = key_node.start_mark.line + 1
        if key in mapping:
            loader.duplicates.append((key, line))
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.lines[key] = line
    return mapping


def _construct_sequence(loader: _LineLoader, node) -> NodeList:
    items = NodeList(line=node.start_mark.line + 1)
    for child in node.value:
        items.append(loader.construct_object(child, deep=True))
        items.lines.append(child.start_mark.line + 1)
    return items


def _construct_timestamp(loader: _LineLoader, node) -> str:
    # Dates stay the text the author wrote: JSON-safe and hash-stable.
    return node.value


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it lies inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_text(path: Path, max_bytes: int) -> tuple[str | None, list[Problem]]:
    """Read a UTF-8 file, or say why it cannot be used."""
    where = display_path(path)
    if not path.is_file():
        return None, [Problem(where, 1, "file is missing")]
    size = path.stat().st_size
    if size > max_bytes:
        return None, [
            Problem(where, 1, f"file is {size:,} bytes; the limit is {max_bytes:,}")
        ]
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        message = (
            f"file is not valid UTF-8 (byte 0x{raw[error.start]:02x}); save it as UTF-8"
        )
        return None, [Problem(where, line, message)]


def load_yaml(text: str, where: str, first_line: int = 1):
    """Parse YAML text into Node/NodeList values; return (value, problems)."""
    loader = _LineLoader(text)
    try:
        value = loader.get_single_data()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = (mark.line if mark else 0) + first_line
        reason = error.problem or error.context or "invalid YAML"
        return None, [Problem(where, line, f"YAML syntax error: {reason}")]
    except yaml.YAMLError as error:
        return None, [Problem(where, first_line, f"YAML error: {error}")]
    finally:
        loader.dispose()
    problems = [
        Problem(where, line + first_line - 1, f"key '{key}' appears twice")
        for key, line in loader.duplicates
    ]
    _shift_lines(value, first_line - 1)
    return value, problems


def _shift_lines(value, offset: int) -> None:
    if not offset or not isinstance(value, Node | NodeList):
        return
    value.line += offset
    if isinstance(value, Node):
        value.lines = {k: v + offset for k, v in value.lines.items()}
        children = value.values()
    else:
        value.lines = [v + offset for v in value.lines]
        children = value
    for child in children:
        _shift_lines(child, offset)


def load_yaml_file(path: Path, max_bytes: int, kind=Node):
    """Read and parse a YAML file that must hold a ``kind`` (mapping or list)."""
    text, problems = read_text(path, max_bytes)
    if text is None:
        return None, problems
    where = display_path(path)
    value, more = load_yaml(text, where)
    problems += more
    if value is not None and not isinstance(value, kind):
        wanted = "a mapping of fields" if kind is Node else "a list"
        problems.append(Problem(where, 1, f"file must hold {wanted}"))
        value = None
    return value, problems
