"""Go's ``encoding/json`` scanner: ``checkValid`` and its exact syntax error texts.

Both ``json.Unmarshal`` calls of the real plugin (:mod:`fake_plugin.gojson`) run Go's
``checkValid`` over the whole input before decoding anything, and the response's error reaches
the caller as ``Cannot perform start session: <err>``. So this is a byte-for-byte port of the
state machine in Go's ``encoding/json/scanner.go`` (unchanged from Go 1.10 to 1.22): the same
states, the same ``quoteChar``, the same ``maxNestingDepth``. It only reads, one byte at a
time, so 10000 nested brackets cost no recursion. No ``json`` import: an argv that fails to
parse must cost no more to start than it does with AWS's binary.
"""

from __future__ import annotations

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

#: Go ``isSpace``: the only bytes skipped between tokens.
SPACE = b" \t\r\n"
_HEX = frozenset(b"0123456789abcdefABCDEF")


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
    if c in SPACE:
        return _SKIP
    if c == 0x5D:  # ]
        return _end_value(s, c)
    return _begin_value(s, c)


def _begin_value(s: _Scanner, c: int) -> int:
    if c in SPACE:
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
    if c in SPACE:
        return _SKIP
    if c == 0x7D:  # }
        s.parse_state[-1] = _PARSE_VALUE
        return _end_value(s, c)
    return _begin_string(s, c)


def _begin_string(s: _Scanner, c: int) -> int:
    if c in SPACE:
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
    if c in SPACE:
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
    if c not in SPACE:
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
