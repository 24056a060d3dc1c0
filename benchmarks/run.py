"""The benchmark suite: ``python benchmarks/run.py`` (see benchmarks/README.md).

Every workload's gradients are verified against the hand-written NumPy version
before anything is timed. chainrule and hand-written NumPy are then timed
interleaved in the same process (warm-up, then rounds; each round times both),
and the report gives medians and the median of the per-round paired ratio.
Peers are timed too when importable. Results go to stdout and to
benchmarks/results.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import compiled as compiled_wl
import peers as peer_libs
import workloads as wl

HERE = Path(__file__).resolve().parent


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return a.shape == b.shape and np.allclose(a, b, rtol=2e-3, atol=1e-6)


def _block(f: Any, repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        f()
    return (time.perf_counter() - start) / repeat


def _settle() -> None:
    # After a matmul an OpenBLAS thread spins a core for ~130 ms: let it stop.
    time.sleep(0.2)


def time_workload(w: wl.Workload, rounds: int) -> dict[str, Any]:
    if w.hand is not None and not _same(w.chainrule(), w.hand()):
        raise SystemExit(
            f"{w.wid}: chainrule's gradient differs from hand-written NumPy: not timed"
        )
    for f in (w.chainrule, w.hand):  # warm-up
        if f is not None:
            _block(f, w.repeat)
    ours, hand, ratios = [], [], []
    for _ in range(rounds):
        if w.unit == "ratio":
            _settle()
        a = _block(w.chainrule, w.repeat)
        if w.unit == "ratio":
            _settle()
        b = _block(w.hand, w.repeat) if w.hand is not None else float("nan")
        ours.append(a)
        hand.append(b)
        ratios.append(a / b)
    return {
        "ours": statistics.median(ours),
        "hand": statistics.median(hand),
        "ratio": statistics.median(ratios),
    }


def time_peer(f: Any, w: wl.Workload, rounds: int) -> tuple[float, float] | None:
    """A peer's median time and its median paired ratio to hand-written NumPy, timed
    interleaved as chainrule is; None when its gradient is not the hand-written one."""
    if not _same(f(), w.hand()):
        return None
    _block(f, w.repeat)
    times, ratios = [], []
    for _ in range(rounds):
        if w.unit == "ratio":
            _settle()
        a = _block(f, w.repeat)
        if w.unit == "ratio":
            _settle()
        times.append(a)
        ratios.append(a / _block(w.hand, w.repeat))
    return statistics.median(times), statistics.median(ratios)


def peak_memory_ratio() -> float:
    """W4: peak memory above the baseline, in multiples of the size of x."""
    wl.w4_chainrule()
    tracemalloc.start()
    tracemalloc.reset_peak()
    wl.w4_chainrule()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / wl.W4_X.nbytes


def import_time(rounds: int) -> tuple[float, float]:
    """W6: python -c 'import chainrule' against 'import numpy', with bytecode as installed."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def run(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env)
        return time.perf_counter() - start

    run("import chainrule")  # write the bytecode once
    numpy_t, ours_t = [], []
    for _ in range(rounds):
        numpy_t.append(run("import numpy"))
        ours_t.append(run("import chainrule"))
    return statistics.median(numpy_t), statistics.median(ours_t)


def fmt(value: float, unit: str) -> str:
    if unit in ("us/op", "us"):
        return f"{value * 1e6:.1f} us"
    return f"{value * 1e3:.1f} ms"


def _unit(w: wl.Workload) -> str:
    # "us-ratio": shown in microseconds, checked as a ratio to hand-written NumPy
    return {"ratio": "ms", "us-ratio": "us"}.get(w.unit, w.unit)


def workload_line(w: wl.Workload, rounds: int) -> str:
    r = time_workload(w, rounds)
    per = w.per if w.unit == "us/op" else 1
    ours, hand = r["ours"] / per, r["hand"] / per
    value = r["ratio"] if w.unit in ("ratio", "us-ratio") else ours * 1e6
    extra = ""
    met = value <= w.limit
    if w.wid == "W4":
        mem = peak_memory_ratio()
        extra = f"; peak memory {mem:.1f}x size(x) (target <= 6x)"
        met = met and mem <= 6.0
    if w.wid == "W4c":
        mem = compiled_wl.w4_peak_memory()
        extra = f"; peak memory {mem:.2f}x size(x) (target <= 1.5x)"
        met = met and mem <= 1.5
    unit = _unit(w)
    return (
        f"| {w.wid} | {w.title} | {w.target} | {fmt(ours, unit)} | {fmt(hand, unit)} | "
        f"{r['ratio']:.2f}{extra} | {'yes' if met else 'NO'} |"
    )


def trace_line(rounds: int) -> str:
    w2, chain = compiled_wl.trace_times(max(3, rounds // 3))
    met = w2 <= 0.020 and chain <= 0.200
    return (
        f"| trace | cr.compile: trace and generate W2's gradient; a 1,000-primitive chain's | "
        f"<= 20 ms; <= 200 ms | {w2 * 1e3:.1f} ms; {chain * 1e3:.0f} ms | | | "
        f"{'yes' if met else 'NO'} |"
    )


def import_line(rounds: int) -> str:
    numpy_t, ours_t = import_time(max(5, rounds))
    diff = (ours_t - numpy_t) * 1e3
    return (
        f"| W6 | python -c 'import chainrule' | <= import numpy + 30 ms | "
        f"{ours_t * 1e3:.0f} ms | numpy {numpy_t * 1e3:.0f} ms | {diff:+.0f} ms | "
        f"{'yes' if diff <= 30 else 'NO'} |"
    )


def peer_lines(workloads: list[wl.Workload], rounds: int) -> list[str]:
    """Peers are imported only now: their thread pools must not run during chainrule's
    own measurements."""
    lines = []
    for peer, funcs in peer_libs.peers().items():
        for w in workloads:
            if w.wid not in funcs:
                continue
            timed = time_peer(funcs[w.wid], w, rounds)
            if timed is None:
                lines.append(f"| {w.wid} | {peer} | wrong gradient: not timed | |")
                continue
            t, ratio = timed
            t = t / w.per if w.unit == "us/op" else t
            lines.append(f"| {w.wid} | {peer} | {fmt(t, _unit(w))} | {ratio:.2f} |")
            print(lines[-1], flush=True)
    return sorted(lines, key=lambda line: line.split("|")[1])  # by workload, stable


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=9, help="timed rounds per workload")
    parser.add_argument("--only", nargs="*", help="workload ids, e.g. W1 W4")
    parser.add_argument("--no-peers", action="store_true", help="time chainrule only")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    lines = [
        f"# chainrule benchmarks ({time.strftime('%Y-%m-%d %H:%M')}, Python "
        f"{platform.python_version()}, NumPy {np.__version__}, load {load:.2f})",
        "",
        "| id | workload | target | chainrule | hand-written NumPy | chainrule / hand | met |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    chosen = [w for w in wl.WORKLOADS if not args.only or w.wid in args.only]
    every = wl.WORKLOADS + compiled_wl.WORKLOADS
    for w in [w for w in every if not args.only or w.wid in args.only]:
        lines.append(workload_line(w, args.rounds))
        print(lines[-1], flush=True)
    if not args.only or "trace" in args.only:
        lines.append(trace_line(args.rounds))
        print(lines[-1], flush=True)
    if not args.only or "W6" in args.only:
        lines.append(import_line(args.rounds))
        print(lines[-1], flush=True)
    peers = [] if args.no_peers else peer_lines(chosen, max(3, args.rounds // 3))
    if peers:
        lines += ["", "| id | peer | time | peer / hand |", "| --- | --- | --- | --- |", *peers]
    (HERE / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
