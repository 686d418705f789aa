"""Go ``encoding/json`` decoding as the plugin uses it: ``decode.go``'s rules, the two calls.

The real plugin calls ``json.Unmarshal(response, &startSessionOutput)`` and prints
``Cannot perform start session: <err>`` (``SMP:src/sessionmanagerplugin/session/session.go:
194-197``), and ``json.Unmarshal(args[5], &map[string]interface{})`` with the error ignored
(``:182-184``). Both run ``checkValid`` first (:mod:`fake_plugin.goscan`, Go's exact syntax
error texts); then decoding follows ``decode.go``: field matching that is exact first and
case-insensitive (Unicode simple folding) second, ``null`` leaving a pointer nil, invalid UTF-8
and lone surrogates as U+FFFD, the first type error kept while decoding goes on. It only
reads; it never builds deep values. No ``json`` import: ``argv`` imports this module only once
``args[5]`` or the response must be decoded.
"""

from __future__ import annotations

import codecs

from fake_plugin.errors import GoJSONError
from fake_plugin.goscan import SPACE, syntax_error

# --- reading valid JSON ------------------------------------------------------------------


def _replace_one_byte(exc: UnicodeError) -> tuple[str, int]:
    """Go's ``utf8.DecodeRune`` yields one U+FFFD per bad *byte*; Python's ``replace``
    yields one per maximal bad subsequence, so resume one byte after the error start."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return "\ufffd", exc.start + 1


codecs.register_error("smp_compat_go_utf8", _replace_one_byte)


def go_utf8(data: bytes) -> str:
    """``data`` as Go coerces it to well-formed UTF-8 (``unquoteBytes``, decode.go)."""
    return data.decode("utf-8", "smp_compat_go_utf8")


_ESCAPES = {0x62: "\b", 0x66: "\f", 0x6E: "\n", 0x72: "\r", 0x74: "\t"}


def go_string(literal: bytes) -> str:
    """Go ``unquote`` of a scanner-valid string literal, quotes included.

    Invalid UTF-8 and lone or mismatched ``\\u`` surrogates become U+FFFD, as in decode.go.
    """
    body = literal[1:-1]
    if b"\\" not in body:
        return go_utf8(body)
    out: list[str] = []
    i = 0
    n = len(body)
    while i < n:
        j = body.find(b"\\", i)
        if j < 0:
            out.append(go_utf8(body[i:]))
            break
        out.append(go_utf8(body[i:j]))
        c = body[j + 1]
        if c != 0x75:  # not \u
            out.append(_ESCAPES.get(c, chr(c)))
            i = j + 2
            continue
        rune = int(body[j + 2 : j + 6], 16)
        i = j + 6
        if 0xD800 <= rune < 0xE000:
            second = _u4(body, i)
            if 0xD800 <= rune < 0xDC00 and 0xDC00 <= second < 0xE000:
                out.append(chr(0x10000 + ((rune - 0xD800) << 10) + (second - 0xDC00)))
                i += 6
                continue
            rune = 0xFFFD
        out.append(chr(rune))
    return "".join(out)


def _u4(body: bytes, i: int) -> int:
    """Go ``getu4``: the ``\\uXXXX`` at ``i`` or -1."""
    if body[i : i + 2] != b"\\u" or len(body) < i + 6:
        return -1
    return int(body[i + 2 : i + 6], 16)


#: Go's ``UnmarshalTypeError.Value`` names by first byte of a value.
_KINDS = {0x7B: "object", 0x5B: "array", 0x22: "string", 0x74: "bool", 0x66: "bool", 0x6E: "null"}


def _skip_space(data: bytes, i: int) -> int:
    while i < len(data) and data[i] in SPACE:
        i += 1
    return i


def _string_end(data: bytes, i: int) -> int:
    """Index after the string literal starting at ``data[i] == '"'``."""
    i += 1
    while True:
        c = data[i]
        if c == 0x22:
            return i + 1
        i += 2 if c == 0x5C else 1


def _value_end(data: bytes, i: int) -> int:
    """Index after the (valid) value at ``i``; iterative, so any depth is fine."""
    c = data[i]
    if c == 0x22:
        return _string_end(data, i)
    if c not in b"{[":
        while i < len(data) and data[i] not in b",]} \t\r\n":
            i += 1
        return i
    depth = 0
    while True:
        c = data[i]
        if c == 0x22:
            i = _string_end(data, i)
            continue
        if c in b"{[":
            depth += 1
        elif c in b"}]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1


#: One member of a top-level object: decoded key, value kind, value span in the input.
Member = tuple[str, str, int, int]


def top_level(data: bytes) -> tuple[str, list[Member]]:
    """The kind of the (scanner-valid) top-level value and, for an object, its members."""
    i = _skip_space(data, 0)
    kind = _KINDS.get(data[i], "number")
    members: list[Member] = []
    if kind != "object":
        return kind, members
    i = _skip_space(data, i + 1)
    while data[i] != 0x7D:
        key_end = _string_end(data, i)
        key = go_string(data[i:key_end])
        start = _skip_space(data, _skip_space(data, key_end) + 1)
        end = _value_end(data, start)
        members.append((key, _KINDS.get(data[start], "number"), start, end))
        i = _skip_space(data, end)
        if data[i] == 0x2C:
            i = _skip_space(data, i + 1)
    return kind, members


# --- the two Unmarshal calls of ValidateInputAndStartSession -----------------------------

#: ``ssm.StartSessionOutput``'s fields (aws-sdk-go v1, no json tags: the Go names are the keys).
START_SESSION_FIELDS = ("SessionId", "StreamUrl", "TokenValue")


def fold(name: str) -> str:
    """Go's case folding for field names (``bytes.EqualFold``): ASCII case, plus the two
    non-ASCII runes that fold onto ASCII letters, U+017F (U+017F ~ s) and U+212A (K ~ k)."""
    return "".join(
        "s" if ch == "\u017f" else "k" if ch == "\u212a" else ch.lower() if ch < "\x80" else ch
        for ch in name
    )


_FOLDED_FIELDS = {fold(name): name for name in START_SESSION_FIELDS}


def match_field(key: str) -> str | None:
    """The struct field a JSON key sets: exact name first, then case-insensitive."""
    if key in START_SESSION_FIELDS:
        return key
    return _FOLDED_FIELDS.get(fold(key))


def unmarshal_start_session_output(data: bytes) -> dict[str, str | None]:
    """``json.Unmarshal(data, &ssm.StartSessionOutput{})``: the fields set, or GoJSONError.

    A field absent from the result is a nil ``*string``; ``null`` sets it back to nil.
    """
    err = syntax_error(data)
    if err is not None:
        raise GoJSONError(err)
    kind, members = top_level(data)
    if kind not in ("object", "null"):
        raise GoJSONError(
            f"json: cannot unmarshal {kind} into Go value of type ssm.StartSessionOutput"
        )
    fields: dict[str, str | None] = {}
    first_error: str | None = None
    for key, value_kind, start, end in members:
        name = match_field(key)
        if name is None:
            continue
        if value_kind == "null":
            fields[name] = None
        elif value_kind == "string":
            fields[name] = go_string(data[start:end])
        else:
            # indirect() has already allocated the pointer (decode.go), so the field is "".
            fields[name] = ""
            if first_error is None:
                first_error = (
                    f"json: cannot unmarshal {value_kind} into Go struct field "
                    f"StartSessionOutput.{name} of type string"
                )
    if first_error is not None:
        raise GoJSONError(first_error)
    return fields


def interface_map_get(data: bytes, key: str) -> tuple[str, str | None]:
    """``m[key]`` after ``json.Unmarshal(data, &m)`` into ``map[string]interface{}``, errors
    ignored: (Go dynamic type name, the string if it is one). ``nil`` when absent."""
    if syntax_error(data) is not None:
        return "nil", None
    _, members = top_level(data)
    found: tuple[str, str | None] = ("nil", None)
    for member_key, value_kind, start, end in members:  # empty unless an object
        if member_key != key:
            continue  # map keys match exactly; a repeated key: the last one wins
        found = _interface_type(data, value_kind, start, end)
    return found


def _interface_type(data: bytes, kind: str, start: int, end: int) -> tuple[str, str | None]:
    if kind == "string":
        return "string", go_string(data[start:end])
    if kind == "number":
        # strconv.ParseFloat out of range: convertNumber fails, the value stays nil.
        return ("nil", None) if float(data[start:end]) in (_INF, -_INF) else ("float64", None)
    return {
        "bool": "bool",
        "null": "nil",
        "object": "map[string]interface {}",
        "array": "[]interface {}",
    }[kind], None


_INF = float("inf")
