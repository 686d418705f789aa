"""Keeps session tokens and keys out of records: what a person may read never holds a secret.

The secret the plugin receives is ``TokenValue`` in the StartSession response (``args[1]``, or
since 1.2.536.0 the ``AWS_SSM_START_SESSION_RESPONSE*`` variable; docs/plugin.md §1.2). The
response is parsed as Go would (:mod:`fake_plugin.goscan`, :mod:`fake_plugin.gojson`) and
every top-level member whose key folds to something containing ``token`` is replaced in place,
so the rest of the caller's bytes stay as evidence. A response that does not parse but
mentions a token is dropped whole: a half-written JSON can still hold a real token. Every
value found is then scrubbed from every string of the record (stdout echoes ``args[1]`` in
``Unknown operation …``).
"""

from __future__ import annotations

from fake_plugin import gojson, goscan

REDACTED = "<redacted>"
#: Replaces a whole argv element that does not parse but mentions a token.
REDACTED_UNPARSED = "<redacted: not valid JSON, mentions a token>"

#: Environment names recorded with their value replaced (presence only).
_SECRET_WORDS = ("SECRET", "TOKEN", "PASSWORD", "CREDENTIAL")
ENV_RESPONSE_PREFIX = "AWS_SSM_START_SESSION_RESPONSE"


def _mentions_token(text: str) -> bool:
    """``token`` anywhere once ``\\uXXXX`` escapes are undone and case is folded as Go does."""
    return "token" in gojson.fold(_unescape_u(text))


def _unescape_u(text: str) -> str:
    out: list[str] = []
    i = 0
    while True:
        j = text.find("\\u", i)
        if j < 0:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:j])
        digits = text[j + 2 : j + 6]
        if len(digits) == 4 and all(c in "0123456789abcdefABCDEF" for c in digits):
            out.append(chr(int(digits, 16)))
            i = j + 6
        else:
            out.append("\\u")
            i = j + 2


def redact_json_arg(arg: bytes, *, whole_if_unparsed: bool) -> tuple[str, list[str]]:
    """(``arg`` as text with token members redacted, the secret texts found in it).

    ``whole_if_unparsed``: drop an unparsable ``arg`` that mentions a token (``args[1]``);
    other argv elements are dropped only if they also look like JSON (contain ``{``).
    """
    raw = arg.decode("utf-8", "surrogateescape")
    if goscan.syntax_error(arg) is not None:
        if _mentions_token(raw) and (whole_if_unparsed or "{" in raw):
            return REDACTED_UNPARSED, [raw]
        return raw, []
    _, members = gojson.top_level(arg)
    secrets: list[str] = []
    pieces: list[bytes] = []
    last = 0
    for key, value_kind, start, end in members:
        if "token" not in gojson.fold(key):
            continue
        span = arg[start:end]
        secrets.append(span.decode("utf-8", "surrogateescape"))
        if value_kind == "string":
            secrets.append(gojson.go_string(span))
            secrets.append(span[1:-1].decode("utf-8", "surrogateescape"))
        pieces.append(arg[last:start])
        pieces.append(b'"' + REDACTED.encode() + b'"')
        last = end
    if not secrets:
        return raw, []
    pieces.append(arg[last:])
    return b"".join(pieces).decode("utf-8", "surrogateescape"), secrets


def is_secret_env(name: str) -> bool:
    """Presence only: keys, tokens, passwords, and the env-var response itself."""
    upper = name.upper()
    if upper.startswith(ENV_RESPONSE_PREFIX):
        return True
    if upper.endswith("_FILE"):  # AWS_WEB_IDENTITY_TOKEN_FILE is a path, not a token
        return False
    return any(word in upper for word in _SECRET_WORDS)


def redact_url_userinfo(value: str) -> str:
    """``http://user:pass@host`` -> ``http://<redacted>@host`` (proxy settings)."""
    scheme, sep, rest = value.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return value
    return f"{scheme}://{REDACTED}@{rest.split('@', 1)[1]}"


class Scrubber:
    """Replaces every known secret in the strings of a record, longest first."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add(self, *secrets: str) -> None:
        """Remember secrets; empty strings are ignored (they would match everywhere)."""
        self._secrets.update(s for s in secrets if s)

    def text(self, value: str) -> str:
        """``value`` with each secret replaced."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value

    def tree(self, value: object) -> object:
        """A copy of a JSON-like value with every string scrubbed (keys too)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.tree(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.tree(v) for v in value]
        return value
