"""Griffe extension for the API reference: render jaxmbl's ``Example:`` sections as code examples.

jaxmbl's docstrings use the singular ``Example:`` heading of the Google style. Griffe parses only
the plural ``Examples:`` as an examples section (``>>>`` blocks rendered as code); the singular is
read as an admonition of Markdown text, where doctest lines such as ``x["a"][1]`` turn into broken
reference links. This extension renames the heading when the docstring is loaded, so the docstrings
keep the house style and the docs render them as code.
"""

from __future__ import annotations

import re

import griffe

_HEADING = re.compile(r"^(\s*)Example:[ \t]*$", re.M)


class ExampleSections(griffe.Extension):
    """Rename ``Example:`` headings to ``Examples:`` in every loaded docstring."""

    def on_object(self, *, obj, **kwargs) -> None:
        """Rewrite the heading of ``obj``'s docstring, if it has one.

        Args:
            obj: the griffe object being loaded.
            **kwargs: the other hook arguments (unused).
        """
        if obj.docstring is not None:
            obj.docstring.value = _HEADING.sub(r"\1Examples:", obj.docstring.value)
