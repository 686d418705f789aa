"""Go ``encoding/json`` texts and decoding rules (scanner.go / decode.go, Go 1.10-1.22).

Expected texts are Go's, as printed by ``Cannot perform start session: %v`` (docs/plugin.md
§1.1 rows 6, 15-17) or derived from the Go scanner's state table.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fake_plugin import gojson, goscan
from fake_plugin.errors import GoJSONError

SYNTAX = [
    (b"notjson", "invalid character 'o' in literal null (expecting 'u')"),
    (b"", "unexpected end of JSON input"),
    (b"   ", "unexpected end of JSON input"),
    (b"xx", "invalid character 'x' looking for beginning of value"),
    (b"AWS_SSM_START_SESSION_RESPONSE", "invalid character 'A' looking for beginning of value"),
    (b"--version", "invalid character '-' in numeric literal"),
    (b"{}x", "invalid character 'x' after top-level value"),
    (b"{} {}", "invalid character '{' after top-level value"),
    (b"-", "invalid character ' ' in numeric literal"),  # eof() feeds a space
    (b"1.", "invalid character ' ' after decimal point in numeric literal"),
    (b"1e+", "invalid character ' ' in exponent of numeric literal"),
    (b"01", "invalid character '1' after top-level value"),
    (b"tru", "invalid character ' ' in literal true (expecting 'e')"),
    (b"fx", "invalid character 'x' in literal false (expecting 'a')"),
    (b'"abc', "unexpected end of JSON input"),
    (b"[1,]", "invalid character ']' looking for beginning of value"),
    (b"[1 2]", "invalid character '2' after array element"),
    (b'{"a" 1}', "invalid character '1' after object key"),
    (b'{"a":1 "b":2}', "invalid character '\"' after object key:value pair"),
    (b"{1:2}", "invalid character '1' looking for beginning of object key string"),
    (b'"\x01"', "invalid character '\\x01' in string literal"),
    (b'"\n"', "invalid character '\\n' in string literal"),
    (b'"\\x"', "invalid character 'x' in string escape code"),
    (b'"\\u12x4"', "invalid character 'x' in \\u hexadecimal character escape"),
    (b"'a'", "invalid character '\\'' looking for beginning of value"),
    (b"\\", "invalid character '\\\\' looking for beginning of value"),
    (b"\x7f", "invalid character '\\x7f' looking for beginning of value"),
    (b"\xc3\xa9", "invalid character 'Ã' looking for beginning of value"),  # string(byte)
    (b"\x85", "invalid character '\\u0085' looking for beginning of value"),
    (b"\xa0", "invalid character '\\u00a0' looking for beginning of value"),
    (b"[" * 10001, "invalid character '[' exceeded max depth"),
    (b"[" * 10000 + b"]" * 10000, None),
    (b' {"a":[true,false,null,-0.5e+3,"\\ud83d\\ude00"]} ', None),
]


@pytest.mark.parametrize(("data", "text"), SYNTAX, ids=[repr(d[:20]) for d, _ in SYNTAX])
def test_syntax_error_texts(data: bytes, text: str | None) -> None:
    assert goscan.syntax_error(data) == text


UNMARSHAL = [
    (b"[]", "json: cannot unmarshal array into Go value of type ssm.StartSessionOutput"),
    (b'"s"', "json: cannot unmarshal string into Go value of type ssm.StartSessionOutput"),
    (b"5", "json: cannot unmarshal number into Go value of type ssm.StartSessionOutput"),
    (b"true", "json: cannot unmarshal bool into Go value of type ssm.StartSessionOutput"),
    (
        b'{"SessionId":5}',
        "json: cannot unmarshal number into Go struct field StartSessionOutput.SessionId"
        " of type string",
    ),
    (
        b'{"streamurl":{},"SessionId":[]}',  # the first error in document order is kept
        "json: cannot unmarshal object into Go struct field StartSessionOutput.StreamUrl"
        " of type string",
    ),
]


@pytest.mark.parametrize(("data", "text"), UNMARSHAL)
def test_unmarshal_type_errors(data: bytes, text: str) -> None:
    with pytest.raises(GoJSONError) as err:
        gojson.unmarshal_start_session_output(data)
    assert str(err.value) == text


def test_fields_match_case_insensitively_and_by_unicode_folding() -> None:
    data = '{"sessionid":"a","STREAMURL":"b","To\u212aenValue":"c","x":{"SessionId":1}}'.encode()
    assert gojson.unmarshal_start_session_output(data) == {
        "SessionId": "a",
        "StreamUrl": "b",
        "TokenValue": "c",
    }
    data = '{"\u017fessionId":"s","SessionId":null}'.encode()  # U+017F ~ s; null resets the pointer
    assert gojson.unmarshal_start_session_output(data) == {"SessionId": None}
    assert gojson.unmarshal_start_session_output(b"null") == {}


def test_strings_are_coerced_to_utf8_as_go_does() -> None:
    data = b'{"SessionId":"a\\ud800b\\ud83d\\ude00\xe2\x82x"}'
    # One U+FFFD per bad byte (Go DecodeRune), not per bad sequence (Python "replace").
    assert (
        gojson.unmarshal_start_session_output(data)["SessionId"]
        == "a\ufffdb\U0001f600\ufffd\ufffdx"
    )


@pytest.mark.parametrize(
    ("params", "go_type"),
    [
        (b'{"Target":"i-1"}', "string"),
        (b'{"Target":5}', "float64"),
        (b'{"Target":1e400}', "nil"),  # ParseFloat range error: value left nil
        (b'{"Target":true}', "bool"),
        (b'{"Target":null}', "nil"),
        (b'{"Target":{}}', "map[string]interface {}"),
        (b'{"Target":[]}', "[]interface {}"),
        (b'{"target":"i-1"}', "nil"),  # map keys are exact
        (b'{"\\u0054arget":"i-1"}', "string"),
        (b"[1]", "nil"),
        (b"null", "nil"),
        (b"notjson", "nil"),
    ],
)
def test_args5_target_dynamic_type(params: bytes, go_type: str) -> None:
    assert gojson.interface_map_get(params, "Target")[0] == go_type


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
        max_leaves=10,
    )
)
def test_everything_python_writes_is_valid_go_json(value: object) -> None:
    data = json.dumps(value).encode()
    assert goscan.syntax_error(data) is None
    kind, members = gojson.top_level(data)
    if isinstance(value, dict):
        assert kind == "object"
        assert [k for k, *_ in members] == list(value)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=30))
def test_validity_agrees_with_python_on_ascii(data: bytes) -> None:
    """On ASCII input without NaN/Infinity, Go and Python accept the same documents."""
    if not data.isascii() or b"N" in data or b"I" in data:
        return
    try:
        json.loads(data)
        python_ok = True
    except ValueError:
        python_ok = False
    assert (goscan.syntax_error(data) is None) == python_ok
