"""Griffe extension for the API reference: reST roles in docstrings become links.

The docstrings are numpydoc and cite other objects with reST roles, e.g.
``:func:`minimax_fidelity```. Markdown has no roles, so each one is rewritten to
inline code wrapped in an *optional* cross-reference of mkdocs-autorefs: a link
where the target is documented on the site, plain code elsewhere (no warning).
The numpydoc ``.. math::`` directive has no Markdown form either: the formula
becomes a code block of its LaTeX source (the directive's line is dropped, or
the formula written on it is indented into a block of its own).
Loaded by ``mkdocs.yml``; excluded from the built site.
"""

import html
import re

import griffe

ROLE = re.compile(r":(?:py:)?(func|class|meth|attr|data|mod|exc|obj|const):`~?([^`<>]+?)(?:\s*<([^`>]+)>)?`")
MATH = re.compile(r"^([ \t]*)\.\. math::[ \t]*(.*?)[ \t]*$", re.M)


def _math(match):
    """``.. math::`` alone: dropped (its indented block follows); ``.. math:: x``: ``x`` as a code block."""
    indent, formula = match.groups()
    return f"{indent}    {formula}" if formula else ""


def _target(obj, name):
    """The full dotted path of ``name`` seen from ``obj``, or ``name`` itself."""
    name = name.strip().rstrip("()")
    if name.startswith("dagtheory."):
        return name
    head, _, rest = name.partition(".")
    try:
        resolved = obj.resolve(head)
    except Exception:  # noqa: BLE001 - unresolvable names stay as plain code
        return name
    return f"{resolved}.{rest}" if rest else resolved


def _rewrite(obj, text):
    def replace(match):
        title, explicit = match.group(2), match.group(3)
        shown = title.strip().rstrip("()") if explicit is None else title.strip()
        if ":`~" in match.group(0):
            shown = shown.rsplit(".", 1)[-1]
        identifier = _target(obj, explicit or title)
        return (f'<autoref identifier="{html.escape(identifier)}" optional>'
                f"<code>{html.escape(shown)}</code></autoref>")

    return ROLE.sub(replace, text)


class ReSTRoles(griffe.Extension):
    """Rewrite ``:role:`name``` and ``.. math::`` in every docstring before it is rendered."""

    def on_object(self, *, obj, **kwargs):
        if obj.docstring is not None and ":`" in obj.docstring.value:
            obj.docstring.value = _rewrite(obj, obj.docstring.value)
        if obj.docstring is not None and ".. math::" in obj.docstring.value:
            obj.docstring.value = MATH.sub(_math, obj.docstring.value)
