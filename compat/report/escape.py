"""Text from matrix.json made inert for each output format: GFM Markdown, XML and link targets.

matrix.json is data an outsider can write (a pull request commits it; a tool's stderr lands in
it), so nothing in it may become markup, a line break, a mention or a link in a report. The
Markdown rules follow the GFM spec (https://github.github.com/gfm/): any ASCII punctuation may
be backslash-escaped (§2.4), a line ending ends a table row (§4.10), and GitHub turns
``@name`` into a mention and ``$…$`` into math after rendering, which a backslash does not stop
for ``@``, so a zero-width space goes after it.
"""

from __future__ import annotations

import re

__all__ = ["clean", "code", "inline", "prose", "safe_link", "spans", "xml_text"]

#: ANSI escape sequences (colours, cursor moves, OSC titles and hyperlinks) a tool may print.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
#: Line and paragraph separators GFM or a browser may break on: they become spaces.
_BREAKS = re.compile(r"[\t\n\v\f\r\x85\u2028\u2029]")
#: Other C0/C1 controls and DEL: dropped.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")
#: Characters not allowed in XML 1.0 (§2.2): controls other than tab/LF/CR, surrogates, FFFE/F.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
#: Characters with a meaning in GFM inline text (emphasis, code, links, HTML, tables, entities,
#: strikethrough, math, autolinks); each gets a backslash.
_MARKDOWN = re.compile(r"([\\`*_\[\]<>|~&$:!#])")
#: ``www.`` starts an extended autolink (GFM §6.9); escaping its dot stops it.
_WWW = re.compile(r"(?i)(?<![A-Za-z0-9])(www)\.")
#: What :func:`code` puts in a code span as it is.
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/+-]*")
#: A URI scheme (RFC 3986 §3.1) at the start of a link target.
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def clean(text: object) -> str:
    """One line of plain text: ANSI sequences and control characters gone, breaks as spaces."""
    value = str(text)
    if value.isprintable():  # no control, separator or escape character: the common case
        return value
    value = _ANSI.sub("", value)
    return _CONTROLS.sub("", _BREAKS.sub(" ", value))


def inline(text: object) -> str:
    """``text`` as GFM inline content that renders as exactly that text: in a paragraph, a
    list item or a table cell, with no markup, mention, math or link."""
    value = _MARKDOWN.sub(r"\\\1", clean(text))
    value = _WWW.sub(r"\1\\.", value).replace("@", "@\u200b")
    # Four columns of leading space would open an indented code block (GFM §4.4); a character
    # reference renders the same space without counting as indentation. Fewer are left alone:
    # the usual case is the space after a code span, mid-line.
    lead = value[: len(value) - len(value.lstrip(" \t"))]
    if len(lead) < 4 and "\t" not in lead:
        return value
    return "&#32;" * len(lead) + value[len(lead) :]


def code(text: object) -> str:
    """An identifier (reason code, cell id) as a code span when it is one plain word, else as
    :func:`inline` text: a span is never built around text that could close it early."""
    value = clean(text)
    return f"`{value}`" if _WORD.fullmatch(value) else inline(value)


def spans(text: str) -> list[tuple[bool, str]]:
    """``text`` split into ``(is_code, part)``: a code span opens at a backtick run that no
    backslash escapes and closes at the next run of the same length (GFM §6.1)."""
    parts: list[tuple[bool, str]] = []
    runs = list(re.finditer(r"`+", text))
    plain_from = index = 0
    while index < len(runs):
        opener = runs[index]
        escaped = opener.start() > 0 and text[opener.start() - 1] == "\\"
        closer = None
        if not escaped:
            closer = next(
                (
                    i
                    for i in range(index + 1, len(runs))
                    if len(runs[i].group()) == len(opener.group())
                ),
                None,
            )
        if closer is None:
            index += 1
            continue
        parts.append((False, text[plain_from : opener.start()]))
        parts.append((True, text[opener.start() : runs[closer].end()]))
        plain_from = runs[closer].end()
        index = closer + 1
    parts.append((False, text[plain_from:]))
    return [p for p in parts if p[1]]


def prose(text: object, *, cell: bool = False) -> str:
    """The kit's own texts (explanations, remedies) as GFM: their ``code spans`` stay code,
    everything else is :func:`inline`. A backslash before a backtick is text, never an opener,
    so no span can be faked to let markup through. ``cell``: inside a table row, where ``|``
    ends the cell even in code (GFM §4.10)."""
    out = []
    for is_code, part in spans(clean(text)):
        if is_code:
            out.append(part.replace("|", "\\|") if cell else part)
        else:
            out.append(inline(part))
    return "".join(out)


def xml_text(text: object) -> str:
    """``text`` without ANSI sequences or characters XML 1.0 cannot hold (line breaks kept)."""
    value = str(text)
    if value.isprintable():  # nothing to drop: the common case, at C speed
        return value
    return _NOT_XML.sub("", _ANSI.sub("", value))


def safe_link(path: object) -> bool:
    """Whether an evidence path may become a link: relative to the report, nothing else (no
    scheme, no absolute or UNC path, no backslash, no ``..``, no whitespace or control at
    either end, where browsers strip it before reading the scheme)."""
    value = str(path)
    if not value or value != value.strip() or clean(value) != value:
        return False
    if _SCHEME.match(value) or value.startswith("/") or "\\" in value:
        return False
    return ".." not in value.split("/")
