"""JSON from outside the tool is parsed within size and depth limits."""

import pytest

from lms_plugin import safejson


def test_parses_ordinary_documents():
    assert safejson.loads(b'{"a": [1, {"b": "c"}]}') == {"a": [1, {"b": "c"}]}
    assert safejson.loads('"\\\\"') == "\\"


def test_brackets_inside_strings_do_not_count():
    assert safejson.nesting_depth(b'{"a": "[[[[{{\\"]]"}') == 1


@pytest.mark.parametrize("opening", [b"[", b'{"a":'])
def test_a_deeply_nested_document_is_refused_without_recursing(opening):
    closing = b"]" if opening == b"[" else b"}"
    deep = opening * 100_000 + b"1" + closing * 100_000
    with pytest.raises(safejson.JsonLimitError, match="deeper than 64"):
        safejson.loads(deep)


def test_depth_at_the_limit_parses():
    assert safejson.loads(b"[" * 64 + b"]" * 64, max_depth=64)


def test_a_document_over_the_size_limit_is_refused():
    with pytest.raises(safejson.JsonLimitError, match="over 10 bytes"):
        safejson.loads(b'["0123456789"]', max_bytes=10)


@pytest.mark.parametrize("bad", [b"{", b"nope", b"\xff\xfe", b""])
def test_bad_json_is_a_limit_error(bad):
    with pytest.raises(safejson.JsonLimitError):
        safejson.loads(bad)
