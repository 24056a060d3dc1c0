"""Every ```python block in the README and the docs runs, and shows what it does.

Blocks of one file run in order in one namespace, so later blocks may use names
that earlier ones defined. A block with ``>>>`` prompts runs as a doctest, so its
shown results are checked; any other block runs as a script. A block meant to
raise is marked by an HTML comment on the line before its fence,
``<!-- raises: GradcheckError -->``: the block must raise exactly that type (a
chainrule exception or a builtin one). A block that uses a name chainrule does not
have yet is marked ``<!-- needs: draw -->`` (several markers may stand on the lines
right before the fence): while ``cr.draw`` is missing, that block is skipped and the
page's test reports the skip.
"""

from __future__ import annotations

import builtins
import doctest
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import chainrule

ROOT = Path(__file__).resolve().parents[1]
DOCS = [
    "README.md",
    "docs/index.md",
    "docs/tutorial.md",
    "docs/guide.md",
    "docs/api.md",
    "docs/howto/custom-functions.md",
    "docs/howto/higher-order.md",
    "docs/howto/check-gradients.md",
    "docs/howto/optimizers.md",
    "docs/howto/draw.md",
]
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```\s*$", re.M | re.S)
_RAISES = re.compile(r"<!--\s*raises:\s*(\w+)\s*-->")
_NEEDS = re.compile(r"<!--\s*needs:\s*(\w+)\s*-->")
_COMMENT = re.compile(r"\s*<!--.*-->\s*$")


@dataclass
class Block:
    path: str
    line: int  # of the opening fence, 1-based
    code: str
    raises: str | None
    needs: tuple[str, ...] = ()


def python_blocks(text: str, path: str = "<text>") -> list[Block]:
    """The ```python blocks of a markdown text, with their ``raises:`` markers."""
    blocks = []
    for m in _FENCE.finditer(text):
        if m.group(1) != "python":
            continue
        # The markers: the HTML comment lines right above the fence.
        markers = []
        for above in reversed(text[: m.start()].rstrip("\n").split("\n")):
            if not _COMMENT.match(above):
                break
            markers.append(above)
        comments = "\n".join(markers)
        raises = _RAISES.search(comments)
        line = text.count("\n", 0, m.start()) + 1
        needs = tuple(_NEEDS.findall(comments))
        blocks.append(Block(path, line, m.group(2), raises.group(1) if raises else None, needs))
    return blocks


def has(name: str) -> bool:
    """Whether ``chainrule.<name>`` exists (a lazy submodule whose extra is missing does not)."""
    try:
        getattr(chainrule, name)
    except (AttributeError, ImportError):
        return False
    return True


def exception_type(name: str) -> type[BaseException]:
    """A chainrule exception or a builtin one, by name."""
    found = getattr(chainrule, name, None) or getattr(builtins, name, None)
    if not (isinstance(found, type) and issubclass(found, BaseException)):
        raise ValueError(f"raises: {name} is neither a chainrule nor a builtin exception")
    return found


def run_block(block: Block, namespace: dict) -> None:
    """Run one block in ``namespace``; fail with the block's file and line."""
    where = f"{block.path}:{block.line}"
    if ">>>" in block.code:
        if block.raises:
            raise AssertionError(
                f"{where}: a doctest block shows its exception itself; drop the raises: marker"
            )
        # The doctest runs in a copy of the namespace; what it defines is copied back.
        test = doctest.DocTestParser().get_doctest(
            block.code, namespace, where, block.path, block.line
        )
        report = io.StringIO()
        runner = doctest.DocTestRunner(optionflags=OPTIONS)
        result = runner.run(test, out=report.write, clear_globs=False)
        namespace.update(test.globs)
        assert result.failed == 0, f"{where}: doctest failed\n{report.getvalue()}"
        return
    code = compile(block.code, where, "exec")
    if block.raises is None:
        exec(code, namespace)
        return
    expected = exception_type(block.raises)
    try:
        exec(code, namespace)
    except expected as e:
        if type(e) is not expected:
            raise AssertionError(
                f"{where}: raised {type(e).__name__}, a subclass of {block.raises}; mark the "
                "exact type"
            ) from e
        return
    raise AssertionError(f"{where}: marked raises: {block.raises}, but it ran without an error")


@pytest.mark.parametrize("path", DOCS)
def test_every_python_block_runs(path):
    blocks = python_blocks((ROOT / path).read_text(encoding="utf-8"), path)
    assert blocks, f"{path} has no ```python block"
    namespace: dict = {"__name__": f"docs_example_{Path(path).stem}"}
    skipped = []
    for block in blocks:
        missing = [n for n in block.needs if not has(n)]
        if missing:
            skipped.append(f"{block.path}:{block.line} needs cr.{', cr.'.join(missing)}")
            continue
        run_block(block, namespace)
    if skipped:
        pytest.skip(f"ran the other blocks; skipped those chainrule cannot run yet: {skipped}")


@pytest.mark.parametrize("path", DOCS)
def test_docs_name_only_what_chainrule_has(path):
    """A ``cr.name`` in the docs is a name the package really has."""
    text = (ROOT / path).read_text(encoding="utf-8")
    # A page may describe a name that is on its way, if its blocks are marked as needing it.
    coming = set(_NEEDS.findall(text))
    named = set(re.findall(r"\bcr\.(\w+)", text)) - coming
    missing = sorted(n for n in named if not hasattr(chainrule, n))
    assert not missing, f"{path} names cr.{', cr.'.join(missing)}, which chainrule lacks"


@pytest.mark.parametrize("path", DOCS)
def test_docs_point_only_inside_the_project(path):
    """Readers cannot follow links to files outside the repository."""
    text = (ROOT / path).read_text(encoding="utf-8")
    assert not re.search(r"\.\./shared|API\.md", text), f"{path} points outside the project"
    for target in re.findall(r"\]\(([^)#]+)", text):
        if "://" not in target:
            assert (ROOT / path).parent.joinpath(target).resolve().exists(), (path, target)


# Files that still mention the contract outside the project, owned by others: each
# should drop the mention (then leave this list). A new mention anywhere else fails.
NOT_YET_CLEANED: set[str] = set()
_OUTSIDE = re.compile(r"\.\./shared|\bAPI\.md")


def _project_files() -> list[Path]:
    """The project's text files: not hidden folders (.git, .ci, .venv), not build output."""
    skip = {"__pycache__", "build", "dist", "node_modules"}
    files = []
    for folder, dirs, names in os.walk(ROOT):
        dirs[:] = [
            d for d in dirs if not (d.startswith(".") or d in skip or d.endswith(".egg-info"))
        ]
        files += [Path(folder, n) for n in names if Path(n).suffix in {".py", ".md", ".toml"}]
    return files


def test_nothing_in_the_project_points_outside_it():
    """Outside .ci/ (the machinery's own), no file refers to files readers do not have."""
    found = {
        f.relative_to(ROOT).as_posix()
        for f in _project_files()
        if _OUTSIDE.search(f.read_text(encoding="utf-8", errors="replace"))
    }
    new = sorted(found - NOT_YET_CLEANED)
    assert not new, f"these files refer to files outside the project: {new}"


def _anchors(markdown: str) -> set[str]:
    """GitHub's anchors for the headings: lower case, punctuation dropped, spaces to '-'."""
    headings = re.findall(r"^#+ (.*)$", _FENCE.sub("", markdown), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("path", DOCS)
def test_links_to_sections_find_their_heading(path):
    text = (ROOT / path).read_text(encoding="utf-8")
    for target, anchor in re.findall(r"\]\(([^)#]*)#([^)]+)\)", text):
        page = (ROOT / path).parent / target if target else ROOT / path
        assert anchor in _anchors(page.read_text(encoding="utf-8")), (path, target, anchor)


def test_the_api_reference_covers_every_public_name():
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    heading_lines = re.findall(r"^#+ .*$", text, flags=re.M)
    headings = {n for h in heading_lines for n in re.findall(r"`(?:cr\.)?(\w+)", h)}
    missing = sorted(set(chainrule.__all__) - headings)
    assert not missing, f"docs/api.md has no section for {missing}"


# ------------------------------------------------- the runner itself can fail
def _run_text(text: str) -> None:
    namespace: dict = {"chainrule": chainrule}
    for block in python_blocks(text):
        run_block(block, namespace)


def test_blocks_share_one_namespace_in_order():
    _run_text("```python\nx = 2\n```\n\ntext\n\n```python\nassert x == 2\n```\n")


def test_names_from_a_doctest_block_reach_later_blocks():
    _run_text("```python\n>>> y = 3\n```\n```python\nassert y == 3\n```\n")
    with pytest.raises(AssertionError):
        _run_text("```python\n>>> y = 3\n```\n```python\nassert y == 4\n```\n")


def test_a_failing_block_fails():
    with pytest.raises(ZeroDivisionError):
        _run_text("```python\n1 / 0\n```\n")


def test_a_wrong_doctest_result_fails():
    with pytest.raises(AssertionError, match=r"<text>:1: doctest failed"):
        _run_text("```python\n>>> 1 + 1\n3\n```\n")


def test_other_languages_are_not_run():
    assert python_blocks("```bash\nexit 1\n```\n```text\n1 / 0\n```\n") == []


def test_a_marked_block_must_raise_exactly_that_type():
    _run_text("<!-- raises: ZeroDivisionError -->\n```python\n1 / 0\n```\n")
    _run_text("<!-- raises: GradcheckError -->\n```python\nraise chainrule.GradcheckError\n```\n")
    with pytest.raises(AssertionError, match="ran without an error"):
        _run_text("<!-- raises: ValueError -->\n```python\nx = 1\n```\n")
    with pytest.raises(AssertionError, match="a subclass of AssertionError"):
        _run_text(
            "<!-- raises: AssertionError -->\n```python\nraise chainrule.GradcheckError\n```\n"
        )
    with pytest.raises(KeyError):
        _run_text("<!-- raises: ValueError -->\n```python\n{}[0]\n```\n")
    with pytest.raises(ValueError, match="neither a chainrule nor a builtin exception"):
        _run_text("<!-- raises: NoSuchError -->\n```python\n1 / 0\n```\n")


def test_a_marker_applies_only_to_the_block_right_after_it():
    blocks = python_blocks("<!-- raises: TypeError -->\n\ntext\n```python\nx = 1\n```\n")
    assert [b.raises for b in blocks] == [None]


def test_needs_markers_stack_with_raises_markers():
    text = "<!-- needs: draw -->\n<!-- raises: TypeError -->\n```python\nx = 1\n```\n"
    (block,) = python_blocks(text)
    assert (block.needs, block.raises) == (("draw",), "TypeError")
    (plain,) = python_blocks("<!-- needs: draw -->\ntext\n```python\nx = 1\n```\n")
    assert plain.needs == ()


def test_has_tells_present_names_from_missing_ones():
    assert has("grad") and not has("no_such_name_in_chainrule")
