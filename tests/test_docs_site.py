"""The documentation site builds with ``mkdocs build --strict``, and its pages say what they should.

The build needs the ``docs`` extra (mkdocs, mkdocs-material, mkdocstrings[python]),
which the ``test`` extra pulls in; without it the build tests skip, saying so.
The griffe extension that renders the docstrings (``docs/griffe_doctests.py``)
is tested on its own as well.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import chainrule

ROOT = Path(__file__).resolve().parents[1]

# Every page of the nav, as the path of its rendered file.
PAGES = [
    "index.html",
    "tutorial/index.html",
    "howto/custom-functions/index.html",
    "howto/higher-order/index.html",
    "howto/check-gradients/index.html",
    "howto/optimizers/index.html",
    "howto/draw/index.html",
    "guide/index.html",
    "api/index.html",
    "coverage/index.html",
    "reference/chainrule/index.html",
    "reference/optim/index.html",
    "reference/nn/index.html",
    "reference/scipy/index.html",
    "reference/graph/index.html",
]


def _require(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(
            f"{module} is not installed: the site's build needs the docs extra, "
            'pip install ".[docs]" (the test extra includes it)'
        )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once with --strict (any warning fails) into a temporary folder."""
    for module in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python"):
        _require(module)
    out = tmp_path_factory.mktemp("site")
    # Material prints a banner about MkDocs 2 on every build; it is not a warning.
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", "mkdocs.yml", "-d", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{log}"
    assert "WARNING" not in log, f"the build warned:\n{log}"
    return out


def _page(site: Path, page: str) -> str:
    return (site / page).read_text(encoding="utf-8")


def _text(html: str) -> str:
    """The visible text of a page, tags dropped and entities for < > & decoded."""
    text = re.sub(r"<[^>]+>", "", html)
    return text.replace("&gt;", ">").replace("&lt;", "<").replace("&amp;", "&")


@pytest.mark.parametrize("page", PAGES)
def test_every_page_of_the_nav_is_rendered(site, page):
    html = _page(site, page)
    assert "<h1" in html, f"{page} has no title"


def test_the_tutorial_walks_the_three_seeds_with_the_lectures_numbers(site):
    text = _text(_page(site, "tutorial/index.html"))
    for expected in [
        "ignores its upstream gradient dy",  # gradcheck's diagnosis of the forum's bug
        "1.5456448841 2.0595697956 1.5922327515",  # the lecture's f, df/dx, df/dy
        "cr.value_and_grad(",
        "dden = (-1.0 / (den**2)) * dinvden",  # the hand-written backward, line by line
        "cr.sigmoid(np.array([-1e308, 0.0, 1e308]))",
        "FloatingPointError",  # the naive sigmoid's overflow
    ]:
        assert expected in text, f"the tutorial lacks {expected!r}"


def test_the_reference_has_every_public_name_with_its_docstring(site):
    html = _page(site, "reference/chainrule/index.html")
    anchors = set(re.findall(r'id="(chainrule\.[\w.]+)"', html))
    # cr.nn and cr.optim have pages of their own; gradcheck shares its module's name.
    missing = [
        name
        for name in chainrule.__all__
        if name not in ("nn", "optim")
        and f"chainrule.{name}" not in anchors
        and f"chainrule.{name}.{name}" not in anchors
    ]
    assert not missing, f"reference/chainrule.md renders no entry for {missing}"
    assert "Composes to any order" in html  # cr.grad's docstring


@pytest.mark.parametrize(
    ("page", "names"),
    [
        ("reference/optim/index.html", ["SGD", "Adam", "AdamW", "CosineDecay", "StepDecay"]),
        ("reference/nn/index.html", ["Linear", "Sequential", "cross_entropy", "mse_loss"]),
        ("reference/graph/index.html", ["GradFn", "Constant", "on_record"]),
        ("reference/scipy/index.html", ["integrate.odeint", "linalg.sqrtm", "special.logsumexp"]),
    ],
)
def test_the_submodule_references_list_their_names(site, page, names):
    module = page.split("/")[1]
    anchors = set(re.findall(r'id="chainrule\.([\w.]+)"', _page(site, page)))
    missing = [n for n in names if f"{module}.{n}" not in anchors]
    assert not missing, f"{page} lacks {missing}"


@pytest.mark.parametrize("page", [p for p in PAGES if p.startswith("reference/")])
def test_docstring_examples_render_as_code_not_as_quotes(site, page):
    html = _page(site, page)
    # A bare ">>>" line in Markdown is three nested block quotes; the griffe extension
    # fences it, so examples show as highlighted code.
    assert "<blockquote>" not in html, f"{page} renders a doctest as a block quote"
    assert re.search(r'<div class="highlight"><pre>.*?&gt;&gt;&gt;', html, re.S), page
    assert ":meth:" not in html and ":class:" not in html, f"{page} shows a Sphinx role"


def test_the_hand_written_pages_are_in_the_site(site):
    assert "chainrule API reference" in _page(site, "api/index.html")
    assert "np.linalg" in _text(_page(site, "coverage/index.html"))
    assert "The tape" in _page(site, "guide/index.html")


# ------------------------------------------------------- the griffe extension itself
@pytest.fixture(scope="module")
def extension() -> ModuleType:
    _require("griffe")
    spec = importlib.util.spec_from_file_location(
        "griffe_doctests", ROOT / "docs" / "griffe_doctests.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_bare_doctest_run_is_fenced_up_to_its_blank_line(extension):
    text = "Prose.\n>>> x = 1\n>>> x + 1  # doctest: +ELLIPSIS\n2\n\nMore prose."
    assert extension.fence_doctests(text).split("\n") == [
        "Prose.",
        "",
        "```pycon",
        ">>> x = 1",
        ">>> x + 1",
        "2",
        "```",
        "",
        "More prose.",
    ]


def test_an_indented_run_keeps_its_indent(extension):
    fenced = extension.fence_doctests("- item\n\n  >>> 1\n  1")
    assert fenced.split("\n") == ["- item", "", "  ```pycon", "  >>> 1", "  1", "  ```"]


def test_a_numpy_examples_section_is_left_to_griffe(extension):
    text = "Summary.\n\nExamples\n--------\n>>> 1\n1"
    assert extension.fence_doctests(text) == text


def test_sphinx_roles_become_inline_code(extension):
    text = ":meth:`Optimizer.step` and :class:`~chainrule.optim.Adam`"
    assert extension.markdown_docstring(text) == "`Optimizer.step` and `Adam`"


def test_a_rest_literal_block_loses_its_second_colon_only(extension):
    text = "The system::\n\n    dy/dt = f(y)\n\nA ratio 1::2 stays."
    assert extension.markdown_docstring(text) == (
        "The system:\n\n    dy/dt = f(y)\n\nA ratio 1::2 stays."
    )
