"""Report builders, tables and JSON (dagtheory/report.py)."""

import json
import math
from fractions import Fraction

from dagtheory.report import (
    example2_report,
    example2_table,
    format_number,
    format_table,
    mixing_example_report,
    mixing_example_table,
    to_json,
)


def test_example2_report_exact_numbers():
    """§2 Example 2, horizon 20 and infinite horizon."""
    report = example2_report(horizon=20)
    head1, head2, combined = report["operators"]
    assert (head1["minimax"], head1["node"], head1["t"]) == (Fraction(3, 8), 1, 3)
    assert (head2["minimax"], head2["node"], head2["t"]) == (Fraction(871696090, 3486784401), 0, 20)
    assert (combined["minimax"], combined["node"], combined["t"]) == (Fraction(5, 12), 2, 1)
    assert head2["minimax_infinite"] == Fraction(1, 4) and not head2["attained_infinite"]
    assert report["ratio"] == Fraction(10, 9) and report["amplifies"]


def test_example2_report_other_horizon():
    """At K = 2 (§2): head 1 cannot reach u before t = 3 (τ→w→v→u), so its minimax is 0 at u;
    head 2 reaches u at t = 2 along τ→w→u with S_2(u) = (1/3)(1/3) = 1/9."""
    head1, head2, _ = example2_report(horizon=2)["operators"]
    assert head1["minimax"] == Fraction(0) and head1["node"] == 0
    assert (head2["minimax"], head2["node"], head2["t"]) == (Fraction(1, 9), 0, 2)


def test_example2_json_has_exact_strings_beside_floats():
    data = json.loads(to_json(example2_report()))
    assert data["ratio"] == {"exact": "10/9", "float": 10 / 9}
    assert data["operators"][1]["minimax"]["exact"] == "871696090/3486784401"
    assert data["operators"][1]["minimax_infinite"]["exact"] == "1/4"


def test_example2_table_lists_every_operator():
    text = example2_table(example2_report())
    assert "3/8 (0.375)" in text and "5/12" in text and "10/9" in text
    assert "871696090/3486784401" in text and "1/4 (0.25), a limit" in text


def test_mixing_example_report():
    """§3 instance: T_mix = 10, 10, 7 and the M3 bound ⌈max(2·4/(1/4), 32 ln 4)⌉ = 45."""
    report = mixing_example_report()
    assert [row["mixing_time"] for row in report["walks"]] == [10, 10, 7]
    assert report["walks"][2]["distance_at_mixing"] == Fraction(663971, 3145728)
    assert report["p_bar"] == Fraction(1, 4)
    assert report["mixture_bound"] == math.ceil(max(2 * 4 / 0.25, 8 * math.log(4) / 0.25))
    assert "T_mix" in mixing_example_table(report)


def test_format_number_and_table():
    assert format_number(Fraction(5, 12)) == "5/12 (0.4166666667)"
    assert format_number(Fraction(7)) == "7"
    assert format_number(math.inf) == "inf"
    assert format_table(["x"], [[Fraction(1, 2)]]).splitlines()[-1] == "1/2 (0.5)"
