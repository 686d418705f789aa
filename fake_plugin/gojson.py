"""Go ``encoding/json`` as the plugin uses it: exact error texts, Go's decoding rules.

The real plugin calls ``json.Unmarshal(response, &startSessionOutput)`` and prints
``Cannot perform start session: <err>`` (``SMP:src/sessionmanagerplugin/session/session.go:
194-197``), and ``json.Unmarshal(args[5], &map[string]interface{})`` with the error ignored
(``:182-184``). Callers see Go's texts, so the scanner below is a byte-for-byte port of the
state machine in Go's ``encoding/json/scanner.go`` (unchanged from Go 1.10 to 1.22), and the
decoding follows ``decode.go``: ``checkValid`` over the whole input first, then field
matching that is exact first and case-insensitive (Unicode simple folding) second, ``null``
leaving a pointer nil, the first type error kept while decoding goes on. It only reads; it
never builds deep values, so 10000 nested brackets (Go's ``maxNestingDepth``) cost no
recursion. No ``json`` import: the fast branches must start as fast as a bare interpreter.
"""

from __future__ import annotations

import codecs

from fake_plugin.errors import GoJSONError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    _Step = Callable[["_Scanner", int], int]

#: Go ``maxNestingDepth`` (scanner.go).
MAX_NESTING_DEPTH = 10000

# Scanner op codes (scanner.go); only these four matter to checkValid.
_CONTINUE = 0
_SKIP = 9
_END = 10
_ERROR = 11

_PARSE_KEY = 0
_PARSE_VALUE = 1
_PARSE_ARRAY = 2

_SPACE = b" \t\r\n"
_HEX = frozenset(b"0123456789abcdefABCDEF")


# --- the scanner -------------------------------------------------------------------------


def quote_char(c: int) -> str:
    """Go ``quoteChar``: ``strconv.Quote(string(rune(c)))`` with single quotes.

    ``string(c)`` of a byte is the code point U+00c, so byte 0xC3 shows as ``'Ã'``;
    ``strconv.Quote`` escapes what ``strconv.IsPrint`` rejects (C0/C1 controls, DEL,
    U+00A0 and U+00AD in this range).
    """
    if c == 0x27:
        return "'\\''"
    if c == 0x22:
        return "'\"'"
    if c == 0x5C:
        return "'\\\\'"
    named = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r"}
    if c in named:
        return f"'{named[c]}'"
    if c < 0x20 or c == 0x7F:
        return f"'\\x{c:02x}'"
    if 0x80 <= c <= 0xA0 or c == 0xAD:
        return f"'\\u{c:04x}'"
    return f"'{chr(c)}'"


class _Scanner:
    """Go's ``scanner``: ``step`` is the state function for the next byte."""

    __slots__ = ("end_top", "err", "parse_state", "step")

    def __init__(self) -> None:
        self.step: _Step = _begin_value
        self.parse_state: list[int] = []
        self.err: str | None = None
        self.end_top = False

    def error(self, c: int, context: str) -> int:
        self.step = _state_error
        self.err = f"invalid character {quote_char(c)} {context}"
        return _ERROR

    def push(self, c: int, state: int, success: int) -> int:
        self.parse_state.append(state)
        if len(self.parse_state) <= MAX_NESTING_DEPTH:
            return success
        return self.error(c, "exceeded max depth")

    def pop(self) -> None:
        self.parse_state.pop()
        if not self.parse_state:
            self.step = _end_top
            self.end_top = True
        else:
            self.step = _end_value

    def eof(self) -> int:
        if self.err is not None:
            return _ERROR
        if self.end_top:
            return _END
        self.step(self, 0x20)
        if self.end_top:
            return _END
        if self.err is None:
            self.err = "unexpected end of JSON input"
        return _ERROR


def _state_error(s: _Scanner, c: int) -> int:
    return _ERROR


def _begin_value_or_empty(s: _Scanner, c: int) -> int:
    if c in _SPACE:
        return _SKIP
    if c == 0x5D:  # ]
        return _end_value(s, c)
    return _begin_value(s, c)


def _begin_value(s: _Scanner, c: int) -> int:
    if c in _SPACE:
        return _SKIP
    if c == 0x7B:  # {
        s.step = _begin_string_or_empty
        return s.push(c, _PARSE_KEY, _CONTINUE)
    if c == 0x5B:  # [
        s.step = _begin_value_or_empty
        return s.push(c, _PARSE_ARRAY, _CONTINUE)
    step = _LITERAL_START.get(c)
    if step is not None:
        s.step = step
        return _CONTINUE
    return s.error(c, "looking for beginning of value")


def _begin_string_or_empty(s: _Scanner, c: int) -> int:
    if c in _SPACE:
        return _SKIP
    if c == 0x7D:  # }
        s.parse_state[-1] = _PARSE_VALUE
        return _end_value(s, c)
    return _begin_string(s, c)


def _begin_string(s: _Scanner, c: int) -> int:
    if c in _SPACE:
        return _SKIP
    if c == 0x22:
        s.step = _in_string
        return _CONTINUE
    return s.error(c, "looking for beginning of object key string")


def _end_value(s: _Scanner, c: int) -> int:
    if not s.parse_state:
        s.step = _end_top
        s.end_top = True
        return _end_top(s, c)
    if c in _SPACE:
        s.step = _end_value
        return _SKIP
    ps = s.parse_state[-1]
    if ps == _PARSE_KEY:
        if c == 0x3A:  # :
            s.parse_state[-1] = _PARSE_VALUE
            s.step = _begin_value
            return _CONTINUE
        return s.error(c, "after object key")
    if ps == _PARSE_VALUE:
        if c == 0x2C:  # ,
            s.parse_state[-1] = _PARSE_KEY
            s.step = _begin_string
            return _CONTINUE
        if c == 0x7D:
            s.pop()
            return _CONTINUE
        return s.error(c, "after object key:value pair")
    if c == 0x2C:
        s.step = _begin_value
        return _CONTINUE
    if c == 0x5D:
        s.pop()
        return _CONTINUE
    return s.error(c, "after array element")


def _end_top(s: _Scanner, c: int) -> int:
    # Go records the error but returns scanEnd; checkValid reports it on the next byte or EOF.
    if c not in _SPACE:
        s.error(c, "after top-level value")
    return _END


def _in_string(s: _Scanner, c: int) -> int:
    if c == 0x22:
        s.step = _end_value
        return _CONTINUE
    if c == 0x5C:
        s.step = _in_string_esc
        return _CONTINUE
    if c < 0x20:
        return s.error(c, "in string literal")
    return _CONTINUE


def _in_string_esc(s: _Scanner, c: int) -> int:
    if c in b'bfnrt\\/"':
        s.step = _in_string
        return _CONTINUE
    if c == 0x75:  # u
        s.step = _ESC_U
        return _CONTINUE
    return s.error(c, "in string escape code")


def _hex_digit(then: _Step) -> _Step:
    """One of the four ``\\u`` states (stateInStringEscU, …U1, …U12, …U123)."""

    def state(s: _Scanner, c: int) -> int:
        if c in _HEX:
            s.step = then
            return _CONTINUE
        return s.error(c, "in \\u hexadecimal character escape")

    return state


def _neg(s: _Scanner, c: int) -> int:
    if c == 0x30:
        s.step = _zero
        return _CONTINUE
    if 0x31 <= c <= 0x39:
        s.step = _one
        return _CONTINUE
    return s.error(c, "in numeric literal")


def _one(s: _Scanner, c: int) -> int:
    if 0x30 <= c <= 0x39:
        s.step = _one
        return _CONTINUE
    return _zero(s, c)


def _zero(s: _Scanner, c: int) -> int:
    if c == 0x2E:  # .
        s.step = _dot
        return _CONTINUE
    if c in b"eE":
        s.step = _exp
        return _CONTINUE
    return _end_value(s, c)


def _dot(s: _Scanner, c: int) -> int:
    if 0x30 <= c <= 0x39:
        s.step = _dot0
        return _CONTINUE
    return s.error(c, "after decimal point in numeric literal")


def _dot0(s: _Scanner, c: int) -> int:
    if 0x30 <= c <= 0x39:
        return _CONTINUE
    if c in b"eE":
        s.step = _exp
        return _CONTINUE
    return _end_value(s, c)


def _exp(s: _Scanner, c: int) -> int:
    if c in b"+-":
        s.step = _exp_sign
        return _CONTINUE
    return _exp_sign(s, c)


def _exp_sign(s: _Scanner, c: int) -> int:
    if 0x30 <= c <= 0x39:
        s.step = _exp0
        return _CONTINUE
    return s.error(c, "in exponent of numeric literal")


def _exp0(s: _Scanner, c: int) -> int:
    if 0x30 <= c <= 0x39:
        return _CONTINUE
    return _end_value(s, c)


def _expect(word: str, index: int, then: _Step) -> _Step:
    """One state of a ``true``/``false``/``null`` literal (stateT, stateTr, stateTru, …)."""
    expected = word[index]
    context = f"in literal {word} (expecting '{expected}')"
    code = ord(expected)

    def state(s: _Scanner, c: int) -> int:
        if c == code:
            s.step = then
            return _CONTINUE
        return s.error(c, context)

    return state


def _literal(word: str) -> _Step:
    """The state after the first letter of ``word``."""
    step: _Step = _end_value
    for index in range(len(word) - 1, 0, -1):
        step = _expect(word, index, step)
    return step


_ESC_U: _Step = _hex_digit(_hex_digit(_hex_digit(_hex_digit(_in_string))))
_LITERAL_START: dict[int, _Step] = {
    0x22: _in_string,
    0x2D: _neg,
    0x30: _zero,
    **dict.fromkeys(range(0x31, 0x3A), _one),
    0x74: _literal("true"),
    0x66: _literal("false"),
    0x6E: _literal("null"),
}


def syntax_error(data: bytes) -> str | None:
    """Go ``checkValid``: the ``SyntaxError`` text for ``data``, or ``None`` if it is valid."""
    s = _Scanner()
    for c in data:
        if s.step(s, c) == _ERROR:
            return s.err
    if s.eof() == _ERROR:
        return s.err
    return None


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
    while i < len(data) and data[i] in _SPACE:
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
