"""make mutation: mutmut over the files [tool.mutmut] names, killed by the tiers it selects; prints the kill rate
and every survivor as a one-line diff. docs/testing.md explains the survivors.

Mutants run in `--workers` test sessions at once (mutmut's children), each a process forked per mutant. Every
session has an Azurite to itself, emptied before its first test (tests/support/azurite_pool.py): one Azurite
per worker, started here, claimed with a lock by the session that runs. So no mutant's tests see what another
mutant's left (a leftover that fails a test would count that mutant killed without a test to show for it),
and the names the tests create are new on every run anyway (tests/support/names.py). Hypothesis runs its
"mutation" profile (derandomized, a tenth of the examples) so that a mutant costs seconds, not minutes.
A mutant counts as killed when a test fails, it times out (an endless loop is caught) or mypy rejects it (make
test runs mypy: such a mutant cannot ship; mutmut type-checks all mutants at once before it runs any test).

Mutants that change only the wording of a message (a string literal with a space in it: a history reason,
an error text) are counted apart as "prose": the wording is not pinned by tests, the facts in it are.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tokenize
import typing
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TYPE_CAUGHT = "caught by type check"  # mypy, which make test runs, rejects the mutant
KILLED = {"killed", "timeout", TYPE_CAUGHT}


@dataclass
class Mutant:
    name: str  # shared.domain.machine.x_decide__mutmut_12
    status: str  # killed | survived | timeout | no tests | suspicious | ...
    file: str = ""
    before: str = ""  # the changed line(s) of the original function
    after: str = ""  # the same of the mutant
    prose: bool = False
    kind: str = ""


def _tokens(source: str) -> list[tuple[int, str]]:
    try:
        return [
            (t.type, t.string)
            for t in tokenize.generate_tokens(io.StringIO(source).readline)
            if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT)
        ]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []


def _is_prose(before: str, after: str) -> bool:
    """Only string literals differ, and each differing original literal is a sentence (has a space)."""
    a, b = _tokens(before), _tokens(after)
    if not a or len(a) != len(b):
        return False
    differing = [(x, y) for x, y in zip(a, b, strict=False) if x != y]
    return bool(differing) and all(x[0] == y[0] == tokenize.STRING and " " in x[1] for x, y in differing)


_WORDS = {"and", "or", "not", "is", "in"}


def _kind(before: str, after: str) -> str:
    """What a mutant changed, roughly as mutmut's operators go: a few words for the survivors' summary."""
    a, b = _tokens(before), _tokens(after)
    if not a or not b:
        return "other"
    if len(a) != len(b):
        return "argument or statement dropped" if len(b) < len(a) else "condition forced or negated"
    differing = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    olds, news = {x[1] for x, _ in differing}, {y[1] for _, y in differing}
    if all(x[0] == tokenize.STRING for x, _ in differing):
        return "string"
    if all(x[0] == tokenize.NUMBER for x, _ in differing):
        return "number"
    if "None" in news and not olds & {"True", "False"}:
        return "value replaced by None"
    if olds | news <= {"True", "False", "None"}:
        return "True/False/None"
    if olds | news <= _WORDS:
        return "and/or/not/is/in"
    if all(x[0] == y[0] == tokenize.OP for x, y in differing):
        return "operator (" + ", ".join(sorted(f"{x[1]} -> {y[1]}" for x, y in differing)) + ")"
    if all(x[0] == y[0] == tokenize.NAME for x, y in differing):
        return "name (" + ", ".join(sorted(f"{x[1]} -> {y[1]}" for x, y in differing)) + ")"
    return "other"


def _functions(path: Path) -> dict[str, str]:
    """Source of every top-level and method-level function in a mutated file, by name."""
    text = path.read_text()
    lines = text.splitlines()
    found: dict[str, str] = {}
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and "__mutmut_" in node.name:
            body_start = node.body[0].lineno - 1  # the body only: the def lines differ by name
            found[node.name] = "\n".join(lines[body_start : node.end_lineno])
    return found


def _describe(mutants: list[Mutant]) -> None:
    by_file: dict[Path, dict[str, str]] = {}
    for m in mutants:
        module, _, func = m.name.rpartition(".")
        path = ROOT / "mutants" / (module.replace(".", "/") + ".py")
        if not path.exists():  # a package's own module: mutmut names it without its "__init__"
            path = path.with_suffix("") / "__init__.py"
        m.file = str(path.relative_to(ROOT / "mutants"))
        if path not in by_file:
            by_file[path] = _functions(path) if path.exists() else {}
        sources = by_file[path]
        # class methods are named xǁClassǁmethod__mutmut_N: the function name is the last part either way
        func = func.split(".")[-1]
        orig = sources.get(re.sub(r"__mutmut_\d+$", "__mutmut_orig", func), "")
        mutated = sources.get(func, "")
        old, new = orig.splitlines(), mutated.splitlines()
        changed = [(o, n) for o, n in zip(old, new, strict=False) if o != n]
        if len(old) != len(new) and not changed:
            changed = [("\n".join(old), "\n".join(new))]
        m.before = " | ".join(o.strip() for o, _ in changed)
        m.after = " | ".join(n.strip() for _, n in changed)
        m.prose = _is_prose(orig, mutated)
        m.kind = _kind(orig, mutated)


def _results(env: dict[str, str]) -> list[Mutant]:
    out = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    mutants = []
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and "__mutmut_" in name:
            mutants.append(Mutant(name, status.strip()))
    return mutants


def _family(kind: str) -> str:
    """ "operator (== -> !=)" and "operator (< -> <=)" are one family in the summary: "operator"."""
    return kind.split(" (")[0]


def report(mutants: list[Mutant], out=sys.stdout) -> dict:
    """The figures of the mutants that were run (a partial run leaves the others "not checked")."""
    unchecked = sum(m.status == "not checked" for m in mutants)
    mutants = [m for m in mutants if m.status != "not checked"]

    def rate(group: list[Mutant]) -> tuple[int, int, float]:
        killed = sum(m.status in KILLED for m in group)
        return killed, len(group), (100.0 * killed / len(group)) if group else 100.0

    behaviour = [m for m in mutants if not m.prose]
    typed = [m for m in mutants if m.status != TYPE_CAUGHT]  # those only a test can kill
    figures = {
        "all": rate(mutants),
        "behaviour": rate(behaviour),
        "past_mypy": rate(typed),
        "statuses": dict(Counter(m.status for m in mutants)),
        "per_file": {f: rate([m for m in mutants if m.file == f]) for f in sorted({m.file for m in mutants})},
    }
    print(f"mutants run: {len(mutants)} ({unchecked} not run)  statuses: {figures['statuses']}", file=out)
    for f, (k, n, r) in figures["per_file"].items():
        print(f"  {f}: {k}/{n} killed ({r:.1f}%)", file=out)
    k, n, r = figures["all"]
    print(f"kill rate, every mutant: {k}/{n} = {r:.1f}%", file=out)
    k, n, r = figures["behaviour"]
    print(f"kill rate, without prose-only mutants: {k}/{n} = {r:.1f}%", file=out)
    k, n, r = figures["past_mypy"]
    print(f"kill rate by the tests, of the mutants mypy accepts: {k}/{n} = {r:.1f}%", file=out)
    survivors = [m for m in mutants if m.status not in KILLED]
    figures["survivors_per_file"] = dict(Counter(m.file for m in survivors).most_common())
    figures["survivors_per_kind"] = dict(Counter(_family(m.kind) for m in survivors).most_common())
    print("\nsurvivors per file:", file=out)
    for f, count in figures["survivors_per_file"].items():
        print(f"  {count:4d}  {f}", file=out)
    print("survivors per kind:", file=out)
    for kind, count in figures["survivors_per_kind"].items():
        print(f"  {count:4d}  {kind}", file=out)
    print(f"\nsurvivors ({len(survivors)}; [prose] = only a message's wording changed):", file=out)
    for m in survivors:
        tag = " [prose]" if m.prose else ""
        print(f"- {m.name} ({m.status}, {m.kind}){tag}\n    - {m.before}\n    + {m.after}", file=out)
    return figures


# mutmut's status line: "412/1819  🎉 398 🫥 0  ⏰ 2  🤔 0  🙁 12  🔇 0  🧙 0", redrawn in place
_STATUS = re.compile(r"(\d+)/(\d+)\s+\S+ (\d+) \S+ (\d+)\s+\S+ (\d+)\s+\S+ (\d+)\s+\S+ (\d+)")


_SPINNER = re.compile(r"^[\u2800-\u28ff] ")  # "⠋ Running stats": a phase's line, redrawn many times


def _run_with_progress(command: list[str], env: dict[str, str], every: float = 30.0) -> int:
    """Run mutmut, printing a plain progress line at most every `every` seconds (its own line is redrawn in
    place with a spinner, unreadable in a log)."""
    started = last = time.monotonic()
    from collections import deque

    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    other: deque[str] = deque(maxlen=40)  # mutmut's last lines, shown if it fails
    pending, status, shown, phase = b"", None, None, ""
    print("mutation: copying the sources and mutating them", flush=True)
    stream = typing.cast(io.BufferedReader, process.stdout)
    while chunk := stream.read1(65536):
        pending += chunk
        *lines, pending = re.split(rb"[\r\n]", pending)
        for line in lines:
            text = line.decode(errors="replace")
            found = _STATUS.search(text)
            if found:
                status = [int(g) for g in found.groups()]
            elif (spinning := _SPINNER.match(text)) and text[spinning.end() :].strip() != phase:
                phase = text[spinning.end() :].strip()  # "Running stats", "Running clean tests", ...
                print(
                    f"mutation: {phase[:1].lower()}{phase[1:]} ({(time.monotonic() - started) / 60:.1f} min)",
                    flush=True,
                )
            elif text.strip() and not spinning:
                other.append(text)
        now = time.monotonic()
        if status and status != shown and (now - last >= every or status[0] == status[1]):
            done, total, killed, no_tests, timeout, suspicious, survived = status
            print(
                f"mutation: {done}/{total} mutants run: {killed} killed, {timeout} timed out, {survived} survived"
                f", {no_tests} without tests ({(now - started) / 60:.1f} min)",
                flush=True,
            )
            last, shown = now, status
    if process.wait():
        print("\n".join(other), file=sys.stderr)
    return process.returncode


RETESTED = {0, 5, 33}  # mutmut's exit codes for "survived" and "no tests"


def forget_survivors(mutants: Path) -> list[str]:
    """Forget the result of every mutant that survived or that no test reached, so that the next run tries it
    again with the tests added since (mutmut keeps a result as long as its function is unchanged). Returns their
    names."""
    forgotten: list[str] = []
    for meta in mutants.rglob("*.meta"):
        data = json.loads(meta.read_text())
        results = data.get("exit_code_by_key", {})
        again = [name for name, code in results.items() if code in RETESTED]
        for name in again:
            results[name] = None
        if again:
            meta.write_text(json.dumps(data, indent=4))
            forgotten += again
    return forgotten


SAMPLE = "sample.json"  # in mutants/: the mutants --sample drew, and from how many


def draw_sample(mutants: Path, size: int, seed: int, *, leave: typing.Iterable[str] = ()) -> list[str]:
    """Draw `size` of the mutants not run yet, uniformly, and remember them: their kill rate estimates the rate of
    all the mutants not run (a whole run takes many hours on two cores: docs/testing.md). `leave`: mutants whose
    result was forgotten to be tried again (--retest): they run anyway and count as themselves, and survivors in
    the draw would make the rate applied to the mutants never run too low."""
    left = set(leave)
    population = sorted(
        name
        for meta in mutants.rglob("*.meta")
        for name, code in json.loads(meta.read_text()).get("exit_code_by_key", {}).items()
        if code is None and name not in left
    )
    drawn = random.Random(seed).sample(population, min(size, len(population)))
    (mutants / SAMPLE).write_text(json.dumps({"seed": seed, "population": len(population), "names": drawn}))
    return drawn


def to_try(mutants: Path, *, retest: bool, sample: int, seed: int) -> tuple[list[str], list[str]]:
    """With --keep: the survivors forgotten to be tried again (--retest), and the sample drawn from the mutants
    never run (--sample), never from those survivors."""
    retried = forget_survivors(mutants) if retest else []
    drawn = draw_sample(mutants, sample, seed, leave=retried) if sample else []
    return retried, drawn


def wilson(killed: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% interval of a proportion seen as killed/n (Wilson's: sound near 100%, unlike the normal one)."""
    if not n:
        return 0.0, 100.0
    p = killed / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    return 100 * max(0.0, centre - half), 100 * min(1.0, centre + half)


def estimate(mutants: list[Mutant], sample: dict) -> dict | None:
    """The whole scope's kill rate when only part of it was run: every mutant run counts as itself, and every
    mutant not run at the rate of the random sample drawn from those not run. None when nothing is left unrun
    (the figures are then a census) or nothing of the sample ran."""
    unrun = sum(m.status == "not checked" for m in mutants)
    drawn = set(sample["names"])
    seen = [m for m in mutants if m.name in drawn and m.status != "not checked"]
    if not unrun or not seen:
        return None
    run = [m for m in mutants if m.status != "not checked"]
    run_killed = sum(m.status in KILLED for m in run)
    killed = sum(m.status in KILLED for m in seen)
    low, high = wilson(killed, len(seen))
    rate = 100 * killed / len(seen)

    def whole(at: float) -> float:
        return 100 * (run_killed + at / 100 * unrun) / len(mutants)

    present = sum(m.name in drawn for m in mutants)  # a mutant whose function changed since is drawn no more
    return {
        "sample_drawn": present,
        "sample_run": len(seen),
        "sample_killed": killed,
        "sample_rate": rate,
        "sample_interval": (low, high),
        "population": sample["population"],
        "run": len(run),
        "run_killed": run_killed,
        "unrun": unrun,
        "whole_scope": whole(rate),
        "whole_scope_interval": (whole(low), whole(high)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="reuse mutants/ and results from an earlier run")
    parser.add_argument(
        "--retest",
        action="store_true",
        help="with --keep: try the survivors and the mutants no test reached again (tests were added since)",
    )
    parser.add_argument("--report-only", action="store_true", help="print the results of the last run")
    parser.add_argument("--json", type=Path, help="also write the figures and survivors to this file")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="test sessions at once, each with its own Azurite"
    )
    parser.add_argument(
        "--sample",
        type=int,
        default=0,
        help="with --keep: run only this many of the mutants not run yet, drawn at random (and the retested "
        "survivors): the report estimates the whole scope's rate from them",
    )
    parser.add_argument("--seed", type=int, default=2026, help="the draw of --sample")
    parser.add_argument(
        "--tests-under",
        type=float,
        metavar="SECONDS",
        help="under a mutant, run only the tests mutmut timed at most this long: a surviving mutant then costs a"
        " third of the time (83 tests of over 1 s take 70%% of the 367 s), and the rate is a lower bound",
    )
    parser.add_argument("names", nargs="*", help="only these mutants (mutmut name patterns, e.g. 'shared.domain.*')")
    args = parser.parse_args(argv)

    from shared.local.azurite import start
    from tests.support import azurite_pool

    env = {**os.environ, "HYPOTHESIS_PROFILE": "mutation"}
    if args.tests_under is not None:
        env["PROMOTE_MUTATION_TESTS_UNDER"] = str(args.tests_under)  # read by tests/conftest.py
    env.pop("PROMOTE_TEST_AZURITE_PORTS", None)  # never an Azurite shared with anything else
    # The tests run in mutants/, which has no node_modules/: a test that starts an Azurite of its own finds it here.
    # mutmut runs the type check command by name: this Python's mypy.
    env["PATH"] = os.pathsep.join(
        [str(ROOT / "node_modules" / ".bin"), str(Path(sys.executable).parent), env.get("PATH", "")]
    )
    if args.sample and not args.keep:
        parser.error("--sample draws from an earlier run's mutants: it needs --keep")
    retried: list[str] = []
    if not args.report_only:
        if not args.keep:
            shutil.rmtree(ROOT / "mutants", ignore_errors=True)
        else:
            retried, drawn = to_try(ROOT / "mutants", retest=args.retest, sample=args.sample, seed=args.seed)
            if args.retest:
                print(f"mutation: {len(retried)} survivors to try again", flush=True)
            if args.sample:
                print(f"mutation: {len(drawn)} mutants drawn from those not run yet", flush=True)
                args.names = [*args.names, *retried, *drawn]
        started = time.monotonic()
        azurites = []
        try:
            with tempfile.TemporaryDirectory(prefix="promote-mutation-") as locks:
                azurites = [start() for _ in range(args.workers)]
                env[azurite_pool.POOL] = azurite_pool.encode(azurites)
                env[azurite_pool.POOL_LOCKS] = locks
                command = [sys.executable, "-m", "mutmut", "run", "--max-children", str(args.workers), *args.names]
                returncode = _run_with_progress(command, env)
        finally:
            for azurite in azurites:
                azurite.stop()
        print(f"mutation: done in {(time.monotonic() - started) / 60:.1f} min", flush=True)
        if returncode:
            print(f"mutmut run failed (exit {returncode}): its last lines are above", file=sys.stderr)
            return returncode
    mutants = _results(env)
    if not mutants:
        print("no mutants found: run make mutation first", file=sys.stderr)
        return 1
    _describe(mutants)
    figures = report(mutants)
    sample_file = ROOT / "mutants" / SAMPLE
    if sample_file.exists() and (guess := estimate(mutants, json.loads(sample_file.read_text()))):
        figures["estimate"] = guess
        low, high = guess["sample_interval"]
        print(
            f"\nestimate of the whole scope (a partial run): {guess['run_killed']}/{guess['run']} of the mutants run"
            f" are killed; {guess['sample_killed']}/{guess['sample_run']} = {guess['sample_rate']:.1f}%"
            f" (95%: {low:.1f}-{high:.1f}%) of a random sample drawn from the {guess['population']} not run then;"
            f" counting the {guess['unrun']} still not run at that rate: {guess['whole_scope']:.1f}% "
            f"(95%: {guess['whole_scope_interval'][0]:.1f}-{guess['whole_scope_interval'][1]:.1f}%)"
        )
        if guess["sample_run"] < guess["sample_drawn"]:
            print(
                f"the sample ran only in part ({guess['sample_run']} of {guess['sample_drawn']}): mutmut runs the"
                " quickest mutants first, so the part is not random and the estimate leans to the quick ones"
            )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "figures": figures,
                    "survivors": [m.__dict__ for m in mutants if m.status not in KILLED | {"not checked"}],
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
