"""Render Markdown as GitHub does: cmark-gfm (GitHub's own parser) with its extensions.

Raw HTML is let through (``UNSAFE``) so that a test sees any markup that got in, and GitHub's
own post-processing, which cmark-gfm does not do, is checked by pattern: ``@name`` mentions.
"""

from __future__ import annotations

import html
import re

import pytest

cmarkgfm = pytest.importorskip("cmarkgfm", reason="cmarkgfm is not installed (the test extra)")
from cmarkgfm.cmark import Options  # noqa: E402

#: GitHub's mention pattern (a login after an ``@`` that follows no word character).
MENTION = re.compile(r"(?:^|[^\w`])@[A-Za-z0-9][A-Za-z0-9-]*", re.M)


def render(markdown: str) -> str:
    """The HTML GitHub's parser makes of ``markdown`` (raw HTML kept, to be seen)."""
    out: str = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    return out


def tags(html_text: str) -> set[str]:
    """The element names in rendered HTML (``<!--`` counts as ``!--``)."""
    return {m.lower() for m in re.findall(r"<(!--|/?[A-Za-z][A-Za-z0-9-]*)", html_text)}


def text(html_text: str) -> str:
    """The text a reader sees: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]*>", "", html_text))


def text_outside_code(html_text: str) -> str:
    """The text GitHub's mention filter reads: code spans are separate nodes it skips."""
    return text(re.sub(r"<code>.*?</code>", "\x00", html_text, flags=re.S))
