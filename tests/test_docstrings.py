"""Every public function and class shows a runnable example.

Public: every name in the ``__all__`` of a public module of ``dagtheory`` (no
part of its dotted name starts with ``_``; ``dagtheory.torch.*`` included) that
is a function or class defined in that module. Its docstring needs a numpydoc
``Examples`` section holding at least one ``>>>`` line; the doctest run
(``--doctest-modules``) then executes it. Exception and warning classes are
exempt. Modules whose optional dependency is not installed are left out.
"""

import importlib
import inspect
import pkgutil
import re

import dagtheory

#: A numpydoc section header: a title line, then a line of dashes.
_HEADER = re.compile(r"^(?P<title>[A-Z][A-Za-z ]*)\n-{3,}[ \t]*$", re.MULTILINE)


def _public_module_names():
    names = ["dagtheory"]
    for info in pkgutil.walk_packages(dagtheory.__path__, "dagtheory."):
        if not any(part.startswith("_") for part in info.name.split(".")[1:]):
            names.append(info.name)
    return names


def _import(name):
    """The module, or None when an optional third-party dependency is missing."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name and err.name.split(".")[0] != "dagtheory":
            return None
        raise


def _public_objects():
    """``(qualified name, object)`` of every public function and class, exceptions excepted."""
    found = []
    for name in _public_module_names():
        module = _import(name)
        if module is None:
            continue
        for attr in getattr(module, "__all__", ()):
            obj = getattr(module, attr)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if getattr(obj, "__module__", None) != name:
                continue
            if inspect.isclass(obj) and issubclass(obj, BaseException):
                continue
            found.append((f"{name}.{attr}", obj))
    return found


def examples_section(doc):
    """The text of the ``Examples`` section of a (cleaned) docstring; '' when it has none."""
    headers = list(_HEADER.finditer(doc or ""))
    for index, header in enumerate(headers):
        if header.group("title").strip() == "Examples":
            end = headers[index + 1].start() if index + 1 < len(headers) else len(doc)
            return doc[header.end():end]
    return ""


def test_examples_section_reader():
    doc = inspect.cleandoc("""Summary.

    Parameters
    ----------
    x : int

    Examples
    --------
    >>> 1 + 1
    2

    Notes
    -----
    Text with >>> after the section does not count.
    """)
    assert examples_section(doc).strip() == ">>> 1 + 1\n2"
    assert examples_section("Summary.\n\nExamples are below.\n>>> 1") == ""


def test_public_objects_are_found():
    names = {qualified for qualified, _ in _public_objects()}
    assert {"dagtheory.fidelity.amplification", "dagtheory.fidelity.Amplification",
            "dagtheory.report.to_json"} <= names
    assert not any(name.startswith("dagtheory.exceptions.") for name in names)
    assert len(names) > 50


def test_every_public_function_and_class_has_a_runnable_example():
    offenders = [qualified for qualified, obj in _public_objects()
                 if ">>>" not in examples_section(inspect.getdoc(obj))]
    assert not offenders, (
        f"{len(offenders)} public function(s)/class(es) lack a numpydoc 'Examples' section "
        "with a '>>>' example:\n  " + "\n  ".join(offenders)
    )
