"""docs/coverage.md is generated from the registry and must not go stale."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_coverage_doc_is_up_to_date():
    pytest.importorskip("scipy.special")  # SciPy's rows are part of the table
    spec = importlib.util.spec_from_file_location("gen_coverage", DOCS / "gen_coverage.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (DOCS / "coverage.md").read_text() == module.render(), (
        "docs/coverage.md is stale: run `python docs/gen_coverage.py`"
    )
