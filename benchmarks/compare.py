"""Before against after: ``python benchmarks/compare.py REV [--rounds N]``.

Times the chainrule side of W1, W2 and W5 (``workloads.py``) for the commit REV and for
the working tree, alternating fresh processes round by round so that both see the
same load, and prints each tree's best time and the ratio after / before. On a shared
machine single runs move by tens of percent; the minimum over rounds, taken in the
same period, is what resolves a few percent. REV is checked out into a temporary git
worktree, removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Run in a fresh process with sys.path set to one tree: the best per-call time of each
# workload over a number of timed blocks.
PROBE = """
import json, sys, time
sys.path[:0] = [sys.argv[1] + "/src", sys.argv[1] + "/benchmarks"]
import workloads as w
def best(fn, calls, per=1, blocks=25):
    fn(); fn()
    times = []
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - start) / calls / per * 1e6)
    return min(times)
print(json.dumps({
    "W1 us/op": best(w.w1_chainrule, 10, per=w.W1_OPS),
    "W2 us": best(w.w2_chainrule, 200),
    "W5 us": best(w.w5_chainrule, 50),
}))
"""


def probe(tree: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(tree)], capture_output=True, text=True, check=True
    )
    return dict(json.loads(out.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", help="the commit to compare against, e.g. HEAD~5")
    parser.add_argument("--rounds", type=int, default=10, help="alternations (default 10)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        before = Path(tmp) / "before"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(before), args.rev],
            check=True,
        )
        try:
            runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
            for _ in range(args.rounds):
                runs["before"].append(probe(before))
                runs["after"].append(probe(ROOT))
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before)],
                check=True,
            )
    print(
        f"{'workload':10} {'before':>9} {'after':>9} {'after/before':>13}  (best of {args.rounds})"
    )
    for key in runs["before"][0]:
        b = min(r[key] for r in runs["before"])
        a = min(r[key] for r in runs["after"])
        print(f"{key:10} {b:9.2f} {a:9.2f} {a / b:13.3f}")


if __name__ == "__main__":
    main()
