"""Griffe extension for the API reference: render jaxmbl's docstrings as the terminal reads them.

The docstrings are written for ``help()`` and the terminal in the Google style, with a few
reStructuredText habits. Three of them would render badly in mkdocs, so they are rewritten when a
docstring is loaded (the source is not touched):

* ``Example:`` (the singular heading): griffe parses only ``Examples:`` as an examples section with
  ``>>>`` blocks rendered as code; the singular is read as Markdown text, where doctest lines such
  as ``x["a"][1]`` turn into broken reference links.
* Sphinx roles such as ``:func:`energies``` become inline code.
* ``.. math::`` blocks become ``$$ ... $$`` display math (rendered by MathJax through
  ``pymdownx.arithmatex``).
"""

from __future__ import annotations

import re

import griffe

_HEADING = re.compile(r"^(\s*)Example:[ \t]*$", re.M)
_ROLE = re.compile(r":(?:func|class|meth|mod|data|attr|obj|exc):`~?([^`]+)`")


def _math_blocks(text: str) -> str:
    """``.. math:: expr`` (one line, or an indented block below) to a ``$$`` block at the same indent."""
    lines = text.split("\n")
    out = []
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)\.\. math::\s*(.*)$", lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        indent, first = m.group(1), m.group(2).strip()
        body = [first] if first else []
        i += 1
        while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > len(indent)):
            if not lines[i].strip() and (i + 1 >= len(lines) or not lines[i + 1].startswith(indent + " ")):
                break
            body.append(lines[i].strip())
            i += 1
        out += [f"{indent}$$", *(f"{indent}{b}" for b in body if b), f"{indent}$$"]
    return "\n".join(out)


class DocstringMarkup(griffe.Extension):
    """Rewrite ``Example:`` headings, Sphinx roles and ``.. math::`` blocks in every loaded docstring."""

    def on_object(self, *, obj, **kwargs) -> None:
        """Rewrite ``obj``'s docstring, if it has one.

        Args:
            obj: the griffe object being loaded.
            **kwargs: the other hook arguments (unused).
        """
        if obj.docstring is not None:
            text = _HEADING.sub(r"\1Examples:", obj.docstring.value)
            text = _ROLE.sub(r"``\1``", text)
            obj.docstring.value = _math_blocks(text)
