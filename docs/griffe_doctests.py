"""A griffe extension that renders chainrule's docstrings as they are written.

chainrule's docstrings put their runnable examples as bare doctest lines
(``>>> ...``) after the prose, without a NumPy-style "Examples" header, and use
a few Sphinx roles (``:meth:`step```) and reST literal blocks (``text::``).
Markdown would read ``>>>`` as three nested block quotes and ``[...]`` output
as links, so before a docstring is parsed this extension fences each doctest
run as a ``pycon`` code block, turns the roles into inline code and ``text::``
into ``text:``. The docstrings stay untouched in the source: the doctests keep
running as they are (tests/test_docs_and_demo.py).

mkdocs.yml loads it: ``extensions: [docs/griffe_doctests.py:DoctestFences]``.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

# ":meth:`Optimizer.step`" or ":class:`~chainrule.optim.Adam`" -> "`Optimizer.step`", "`Adam`".
_ROLE = re.compile(r":(?:func|class|meth|mod|attr|data|obj|exc):`(~?)([^`]+)`")
_DIRECTIVE = re.compile(r"\s*#\s*doctest:.*$")
_UNDERLINE = re.compile(r"^\s*-{3,}\s*$")
# reST's "text::" introduces an indented literal block, which Markdown already reads
# as code: only the second colon has to go.
_LITERAL = re.compile(r"(?<=\S)::$", re.M)


def _short(match: re.Match[str]) -> str:
    tilde, target = match.groups()
    # Sphinx's "~" shows only the last component of a dotted path.
    return f"`{target.rsplit('.', 1)[-1] if tilde else target}`"


def fence_doctests(text: str) -> str:
    """Fence every run of doctest lines in ``text`` as a ``pycon`` block.

    A run starts at a ``>>>`` line and ends at the next blank line, as doctest
    reads it. Runs inside a NumPy-style "Examples" section are left to griffe,
    which parses those itself. Doctest directives are dropped from the shown code.

    >>> fence_doctests("Text.\\n\\n>>> 1 + 1  # doctest: +SKIP\\n2").splitlines()
    ['Text.', '', '```pycon', '>>> 1 + 1', '2', '```']
    """
    lines = text.split("\n")
    out: list[str] = []
    section = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if i + 1 < len(lines) and _UNDERLINE.match(lines[i + 1]) and line.strip():
            section = line.strip().lower()
        stripped = line.lstrip()
        if stripped.startswith(">>>") and section != "examples":
            indent = line[: len(line) - len(stripped)]
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(_DIRECTIVE.sub("", lines[i][len(indent) :]))
                i += 1
            if out and out[-1].strip():
                out.append("")
            out += [f"{indent}```pycon", *(indent + b for b in block), f"{indent}```"]
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


def markdown_docstring(text: str) -> str:
    """A chainrule docstring as Markdown: doctests fenced, Sphinx roles as inline code.

    >>> markdown_docstring("See :class:`~chainrule.optim.Adam` and :meth:`step`.")
    'See `Adam` and `step`.'
    >>> markdown_docstring("The system::\\n\\n    dy/dt = f(y)")
    'The system:\\n\\n    dy/dt = f(y)'
    """
    return fence_doctests(_LITERAL.sub(":", _ROLE.sub(_short, text)))


class DoctestFences(griffe.Extension):
    """Rewrite each docstring once the package's object tree is built."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown_docstring(obj.docstring.value)
