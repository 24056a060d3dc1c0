"""The benchmark suite's workloads compute what they claim (nothing here is timed)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import peers
import run
import workloads


@pytest.mark.parametrize("w", workloads.WORKLOADS, ids=lambda w: w.wid)
def test_chainrule_matches_the_hand_written_gradients(w):
    assert run._same(w.chainrule(), w.hand())
    assert run._same(w.chainrule(), w.hand())  # again: W3 and W4 reuse their tensors


def test_the_installed_peers_match_the_hand_written_gradients():
    installed = peers.peers()
    if not installed:  # the bench extra is optional: say so rather than pass vacuously
        pytest.skip("no peer library installed (pip install '.[bench]')")
    hands = {w.wid: w for w in workloads.WORKLOADS}
    for name, funcs in installed.items():
        for wid, f in funcs.items():
            if wid != "W4":  # 4e6 elements in every peer: kept out of the test budget
                assert run._same(f(), hands[wid].hand()), (name, wid)


def test_a_wrong_gradient_is_never_timed():
    w = workloads.WORKLOADS[1]
    assert run.time_peer(lambda: (0.0, 0.0), w, rounds=1) is None
    with pytest.raises(SystemExit, match="differs from hand-written"):
        run.time_workload(workloads.Workload("W2", "", "", "us", w.hand, lambda: (1.0, 1.0)), 1)
