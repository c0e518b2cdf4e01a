"""The three verdicts of every checker (§8 of docs/theory.md), in one place.

``HOLDS``: proved (a bound) or no counterexample in the named searches (a
property); ``REFUTED``: a counterexample verified in exact arithmetic;
``UNDECIDED``: neither.
"""

__all__ = ["HOLDS", "REFUTED", "UNDECIDED", "VERDICTS"]

HOLDS = "holds"
REFUTED = "refuted"
UNDECIDED = "undecided"

VERDICTS = (HOLDS, REFUTED, UNDECIDED)
