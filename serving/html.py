"""HTML -> plain text that keeps what farms add around the article.

Why not a main-content extractor (trafilatura's ``extract``, readability): those drop the
"You may also like" link list, the disclaimer and the comment form, and those are exactly
the signals farmscore scores. So this keeps *all* visible text and only drops what a
browser never shows (``script``, ``style``, ``noscript``, ``template``, the ``head``,
comments). Block structure becomes line breaks, because the extractors reason in lines and
paragraphs: a tail is "a trailing block of short headline-shaped lines", which only exists
if each ``<li>``/``<a>`` row stays on its own line. Form controls contribute the text a
reader sees (``<button>`` text, ``value`` of submit inputs, ``placeholder`` of text boxes),
since "Post Comment" and "Name *" are what the comment-form detector looks for.

The walk is iterative (``etree.iterwalk``), so hostile, deeply nested markup cannot
exhaust the Python stack.
"""

from __future__ import annotations

import re

from lxml import etree
from lxml import html as lxml_html

#: Elements whose content is never shown to a reader.
DROP = frozenset({"script", "style", "noscript", "template", "head", "svg", "math",
                  "iframe", "object", "embed", "canvas", "select", "datalist"})
#: Blocks separated by a blank line (paragraph breaks: the duplication and paragraph
#: features split on them).
PARA = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table",
                  "ul", "ol", "dl", "section", "article", "aside", "header", "footer",
                  "nav", "main", "form", "fieldset", "figure", "hr", "address", "details"})
#: Blocks on a line of their own.
LINE = frozenset({"div", "li", "tr", "dt", "dd", "figcaption", "caption", "summary",
                  "legend", "label", "textarea", "button", "option", "center", "body",
                  "html", "menu", "dialog", "input", "thead", "tbody", "tfoot"})
CELL = frozenset({"td", "th"})

_WS = re.compile(r"[ \t\n\r\f\v]+")


class _Builder:
    """Accumulates text with collapsed inline white space and pending line breaks."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pending = 0  # newlines owed before the next text (max of requested breaks)
        self.space = False  # a space is owed before the next text on the same line
        self.started = False

    def brk(self, n: int) -> None:
        if self.started:
            self.pending = max(self.pending, n)
        self.space = False

    def text(self, s: str | None, pre: bool = False) -> None:
        if not s:
            return
        if pre:
            self._emit(s)
            return
        lead = s[:1].isspace()
        trail = s[-1:].isspace()
        s = _WS.sub(" ", s).strip()
        if not s:
            if lead or trail:
                self.space = True
            return
        if lead:
            self.space = True
        self._emit(s)
        self.space = trail

    def _emit(self, s: str) -> None:
        if self.pending:
            self.parts.append("\n" * self.pending)
            self.pending = 0
        elif self.space and self.started:
            self.parts.append(" ")
        self.space = False
        self.parts.append(s)
        self.started = True

    def result(self) -> str:
        return "".join(self.parts)


def _parse(markup: str):
    # lxml refuses str input that carries an XML encoding declaration, so parse bytes
    # with the encoding stated; NUL characters would end the C string early.
    data = markup.replace("\x00", " ").encode("utf-8", "surrogatepass")
    parser = lxml_html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    try:
        return lxml_html.document_fromstring(data, parser=parser)
    except (etree.ParserError, ValueError):
        return None


def html_to_text(markup: str) -> str:
    """Visible text of an HTML page, one block per line, paragraphs separated by a blank
    line. Returns "" for markup without visible text (the scorer then refuses it as empty)."""
    root = _parse(markup)
    if root is None:
        return ""
    out = _Builder()
    pre_depth = 0
    walker = etree.iterwalk(root, events=("start", "end"))
    skipped: set[int] = set()
    for event, el in walker:
        tag = el.tag if isinstance(el.tag, str) else None
        name = tag.lower() if tag else None
        if event == "start":
            if name is None or name in DROP:
                skipped.add(id(el))
                walker.skip_subtree()
                continue
            if name in PARA:
                out.brk(2)
            elif name in LINE:
                out.brk(1)
            elif name == "br":
                out.brk(1)
            elif name in CELL:
                out.space = True
            if name == "pre":
                pre_depth += 1
            if name == "img":
                pass  # alt text is not what a reader sees as the page's text
            elif name == "input":
                kind = (el.get("type") or "text").lower()
                if kind in ("submit", "button", "reset"):
                    out.text(el.get("value") or kind.capitalize())
                elif kind not in ("hidden", "checkbox", "radio", "file", "image"):
                    out.text(el.get("placeholder"))
            elif name == "textarea":
                out.text(el.text or el.get("placeholder"))
                continue
            out.text(el.text, pre=pre_depth > 0)
        else:  # end
            if id(el) in skipped:
                skipped.discard(id(el))
            elif name is not None:
                if name == "pre":
                    pre_depth -= 1
                if name in PARA:
                    out.brk(2)
                elif name in LINE:
                    out.brk(1)
                elif name in CELL:
                    out.space = True
            out.text(el.tail, pre=pre_depth > 0)
    return out.result()
