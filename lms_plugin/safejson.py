"""JSON from outside the tool, parsed within limits of size and nesting depth.

Python's ``json`` module recurses once per nested array or object, so a document
nested a few thousand levels deep raises ``RecursionError`` (a 500, if nothing
catches it) and a huge one ties up memory. Everything the tool reads from a
platform or a stranger (OpenID configurations, registration answers, JWKS, AGS
and NRPS answers, id_token payloads) goes through :func:`loads`, which checks both
before parsing and raises :class:`JsonLimitError` (a ``ValueError``) instead.
"""

import json
import re

#: Deeper than any document the LTI specs describe (an id_token is about 4 deep).
MAX_DEPTH = 64
#: Largest document read by default, in bytes.
MAX_BYTES = 1_000_000


class JsonLimitError(ValueError):
    """The document is not JSON, or is larger or deeper than allowed."""


def loads(
    data: bytes | str, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH
) -> object:
    """Parse ``data`` as JSON; JsonLimitError when it is too big, too deep or bad."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if len(raw) > max_bytes:
        raise JsonLimitError(f"JSON document over {max_bytes} bytes")
    if nesting_depth(raw) > max_depth:
        raise JsonLimitError(f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise JsonLimitError(f"not JSON: {type(error).__name__}") from None


def nesting_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in raw, ignoring string contents.

    A linear scan over the structural bytes only, which never recurses; malformed
    input gives some number and is left for the parser to refuse.
    """
    depth = deepest = 0
    in_string = False
    for match in _STRUCTURE.finditer(raw):
        token = match.group()
        if in_string:
            if token == b'"':
                in_string = False
        elif token == b'"':
            in_string = True
        elif token in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in b"]}":
            depth -= 1
    return deepest


#: A backslash with the byte it escapes (so an escaped quote never ends a
#: string), a quote, or a bracket.
_STRUCTURE = re.compile(rb'\\.|["\[\]{}]', re.DOTALL)
