"""Benchmark of the checkers: the old procedures against the new, on statements with known answers.

Usage::

    python bench/checks.py                      # every case, both procedures -> bench/checks.json
    python bench/checks.py --only bounds        # the bound checks only
    python bench/checks.py --report             # rewrite the table in docs/checking.md from bench/checks.json
    dagtheory check --profile thorough --json > bench/proofs-thorough.json
    python bench/checks.py --proofs-table bench/proofs-thorough.json   # the proofs/ table of docs/checking.md

The old procedures are those of the release before the rigorous checks
(git revision ``OLD``, checked out into a temporary worktree and put first on
``PYTHONPATH``): ``check_inequality`` decided by solveset, sign assumptions
and an exact sample grid, and ``run_statement`` drew examples with Hypothesis
only.

Bounds (bench/check_cases.py, ``BOUNDS``): ``check_inequality(expr, ranges)``,
old against new (counterexample search, interval branch and bound, SOS and z3
after sympy), each in its own process with a wall-clock limit.

Statements (``statements()``): ``run_statement`` of the statements of proofs/
and of planted false ones, old against new (the hunts), under a profile.

A verdict is *correct* when it agrees with the known answer, *wrong* when it
contradicts it (``holds`` for a false statement or ``refuted`` for a true one),
and *undecided* otherwise.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "checks.json"
DOCS = HERE.parent / "docs" / "checking.md"
START, END = "<!-- checks-benchmark:start -->", "<!-- checks-benchmark:end -->"
PROOFS_START, PROOFS_END = "<!-- thorough-table:start -->", "<!-- thorough-table:end -->"
LIMIT = 60.0
#: The revision whose procedures are "old".
OLD = "40d026a"
OLD_TREE = Path(tempfile.gettempdir()) / "dagtheory-old-checks"


def _bound_case(name, procedure):
    """One bound check in this process: the verdict and the seconds it took."""
    sys.path.insert(0, str(HERE))
    import check_cases
    from dagtheory.symbolic import check_inequality

    expr, ranges, _, _ = check_cases.BOUNDS[name]
    options = {} if procedure == "old" else {"time_limit": LIMIT - 5}
    start = time.perf_counter()
    check = check_inequality(expr, ranges, **options)
    return {"status": check.status, "method": getattr(check, "method", ""),
            "seconds": time.perf_counter() - start}


def _statement_case(name, procedure, profile):
    sys.path.insert(0, str(HERE))
    import check_cases
    from dagtheory.checks import run_statement

    statement = check_cases.statements()[name][0]
    options = {} if procedure == "old" else {"hunts": True}
    start = time.perf_counter()
    result = run_statement(statement, profile=profile, **options)
    return {"status": result.status, "method": getattr(result, "method", ""),
            "seconds": time.perf_counter() - start, "examples": result.examples}


def _old_tree():
    """A worktree of the old revision (made once)."""
    if not (OLD_TREE / "dagtheory").is_dir():
        subprocess.run(["git", "worktree", "add", "--force", str(OLD_TREE), OLD], cwd=HERE.parent,
                       check=True, capture_output=True)
    return OLD_TREE


def _in_subprocess(kind, name, procedure, profile, limit):
    command = [sys.executable, __file__, "--case", kind, name, procedure, "--profile", profile]
    env = dict(os.environ, PYTHONPATH=str(_old_tree())) if procedure == "old" else None
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=limit, check=True, env=env)
    except subprocess.TimeoutExpired:
        return {"status": "undecided", "method": "", "seconds": time.perf_counter() - start,
                "note": f"stopped at the {limit:.0f} s limit"}
    except subprocess.CalledProcessError as err:
        return {"status": "error", "method": "", "seconds": time.perf_counter() - start,
                "note": err.stderr.strip().splitlines()[-1] if err.stderr.strip() else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _grade(status, truth):
    if status == ("holds" if truth else "refuted"):
        return "correct"
    if status in ("holds", "refuted"):
        return "wrong"
    return "undecided"


def run(only, profile):
    sys.path.insert(0, str(HERE))
    import check_cases

    rows = []
    kinds = {"bounds": lambda: {k: v[2] for k, v in check_cases.BOUNDS.items()},
             "statements": lambda: {k: v[1] for k, v in check_cases.statements().items()}}
    for kind, cases in kinds.items():
        if only and kind != only:
            continue
        cases = cases()
        limit = LIMIT + 30 if kind == "bounds" else 900
        for name, truth in cases.items():
            row = {"kind": kind, "name": name, "truth": truth}
            for procedure in ("old", "new"):
                outcome = _in_subprocess(kind, name, procedure, profile, limit)
                outcome["grade"] = _grade(outcome["status"], truth)
                row[procedure] = outcome
                print(f"{kind:10s} {name:28s} {procedure}: {outcome['status']:9s} "
                      f"{outcome.get('method', ''):9s} {outcome['seconds']:7.2f} s", flush=True)
            rows.append(row)
    return rows


def _summary(rows, procedure):
    grades = [row[procedure]["grade"] for row in rows]
    seconds = [row[procedure]["seconds"] for row in rows]
    return (f"{grades.count('correct')}/{len(rows)}", grades.count("wrong"),
            f"{statistics.median(seconds):.2f}", f"{max(seconds):.1f}")


def _group(row):
    """The summary group of a row: polynomial and other bounds, statements."""
    if row["kind"] != "bounds":
        return "statements"
    sys.path.insert(0, str(HERE))
    import check_cases

    expr = check_cases.BOUNDS[row["name"]][0]
    return "polynomial bounds" if expr.is_polynomial() else "other bounds"


def report(results):
    """The Markdown of the benchmark section of docs/checking.md."""
    lines = [f"Generated by `python bench/checks.py` on {results['date']} ({results['machine']}; "
             f"statements under the `{results['profile']}` profile).", "",
             "| cases | procedure | decided correctly | wrong verdicts | median s | max s |",
             "|---|---|---|---|---|---|"]
    rows = sorted(results["rows"], key=lambda row: row["kind"])
    for group in ("polynomial bounds", "other bounds", "statements"):
        members = [row for row in rows if _group(row) == group]
        if not members:
            continue
        for procedure in ("old", "new"):
            cells = " | ".join(map(str, _summary(members, procedure)))
            lines.append(f"| {group} ({len(members)}) | {procedure} | {cells} |")
    lines += ["", "| case | truth | old | new (method) | new s |", "|---|---|---|---|---|"]
    for row in rows:
        new = row["new"]
        lines.append(f"| {row['kind'][:-1]} `{row['name']}` | {'true' if row['truth'] else 'false'} | "
                     f"{row['old']['status']} | {new['status']} ({new.get('method') or '–'}) | {new['seconds']:.2f} |")
    return "\n".join(lines)


def _replace_between(start, end, body):
    text = DOCS.read_text()
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    DOCS.write_text(head + start + "\n" + body + "\n" + end + tail)


def write_docs(results):
    _replace_between(START, END, report(results))


def _evidence(result):
    """The searches behind a verdict, in a few words."""
    searches = result.get("searches") or {}
    parts = []
    for stage, record in searches.items():
        if stage == "exact" or record.get("skipped"):
            continue
        exhausted = ", exhausted" if record.get("exhausted") else ""
        parts.append(f"{stage} {record.get('examples', 0):,}{exhausted}")
    return "; ".join(parts) or "–"


def proofs_table(results):
    """The Markdown table of ``dagtheory check --json`` results."""
    lines = ["| statement | kind | status | method | searches (examples) | seconds |", "|---|---|---|---|---|---|"]
    for result in results:
        lines.append(f"| `{result['name']}` | {result['kind']} | **{result['status']}** | "
                     f"{result.get('method') or '–'} | {_evidence(result)} | {result['seconds']:.0f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("bounds", "statements"))
    parser.add_argument("--profile", default="thorough", choices=("ci", "thorough"))
    parser.add_argument("--report", action="store_true", help="only rewrite docs/checking.md")
    parser.add_argument("--proofs-table", metavar="JSON", help="write the proofs/ table of docs/checking.md "
                        "from the output of `dagtheory check --json`")
    parser.add_argument("--case", nargs=3, metavar=("KIND", "NAME", "PROCEDURE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.proofs_table:
        _replace_between(PROOFS_START, PROOFS_END, proofs_table(json.loads(Path(args.proofs_table).read_text())))
        return
    if args.case:
        kind, name, procedure = args.case
        outcome = (_bound_case(name, procedure) if kind == "bounds"
                   else _statement_case(name, procedure, args.profile))
        print(json.dumps(outcome))
        return
    if not args.report:
        import platform

        rows = run(args.only, args.profile)
        if args.only and RESULTS.exists():
            kept = [row for row in json.loads(RESULTS.read_text())["rows"] if row["kind"] != args.only]
            rows = kept + rows
        results = {"date": time.strftime("%Y-%m-%d"), "profile": args.profile, "rows": rows,
                   "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"}
        RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    write_docs(json.loads(RESULTS.read_text()))


if __name__ == "__main__":
    main()
