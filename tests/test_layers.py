"""The package's layers: imports point only down, and nothing imports in a circle.

A module may import modules on its own layer or below, never above, at module
level or inside a function (a call-time import is still a dependency). The table
below is the architecture; a new module must take its place in it.
"""

import ast
import pathlib

import pytest

import chainrule
from chainrule import _tensor_api, _tensor_methods
from chainrule._tensor import Tensor

SRC = pathlib.Path(chainrule.__file__).parent

LAYERS: dict[str, int] = {
    # 0 leaves: exceptions, grad mode, the watched .data view, the primitive registry,
    # the typed declaration of Tensor's operators and methods.
    "errors": 0,
    "_mode": 0,
    "_watched": 0,
    "_registry": 0,
    "_tensor_api": 0,
    "_pytree": 0,
    "_backend": 0,
    "_callers": 0,
    # 1: writing into buffers nobody else holds; anomaly mode.
    "_reuse": 1,
    "anomaly": 1,
    # 2: nodes and the reverse sweep (knows no Tensor class).
    "_engine": 2,
    # 3: the Tensor's data, metadata, conversions, backward and hooks.
    "_tensor": 3,
    "graph": 3,
    # 4: tangents of one primitive application; custom Functions.
    "_forward": 4,
    "function": 4,
    "_function_run": 4,
    # 5: the recorder (apply, in-place writes) and temporary elision.
    "_elide": 5,
    "_record": 5,
    # 6: the rules, one module per NumPy family.
    "ops": 6,
    "ops.*": 6,
    # 7: the face: NumPy protocols, stable kernels, transforms.
    "_dispatch": 7,
    "activations": 7,
    "transforms": 7,
    "_transform_args": 7,
    "jacobians": 7,
    # 8: Tensor's bound operators and methods; what is built on the transforms.
    "_tensor_methods": 8,
    "gradcheck": 8,
    "_gradcheck_problem": 8,
    "_gradcheck_reverse": 8,
    "_gradcheck_forward": 8,
    "_minimize": 8,
    "nn": 8,
    "nn.*": 8,
    "optim": 8,
    "optim.*": 8,
    "scipy": 8,
    "scipy.*": 8,
    "_draw": 8,
    # traces written out as programs (cr.explain); imported on first use.
    "staging": 8,
    "staging.*": 8,
    # 9: the public face.
    "": 9,
    "__main__": 9,
    "_demo": 9,
    "_cli": 9,
}


def _modules() -> dict[str, pathlib.Path]:
    """Dotted names relative to the package ('' for chainrule itself) -> files."""
    found = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _layer(module: str) -> int:
    if module in LAYERS:
        return LAYERS[module]
    package = module.rsplit(".", 1)[0] + ".*" if "." in module else None
    if package in LAYERS:
        return LAYERS[package]
    raise AssertionError(f"chainrule.{module} has no layer: give it one in tests/test_layers.py")


def _imports(module: str, path: pathlib.Path) -> set[str]:
    """The package modules that ``module`` imports, anywhere in its text."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    package = [p for p in package if p]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
            elif (node.module or "").split(".")[0] == "chainrule":
                base = []
            else:
                continue
            head = base + [p for p in (node.module or "").split(".") if p and p != "chainrule"]
            # `from a import b`: b when it is a module, else a (whose names are used)
            candidates = [
                ".".join([*head, a.name])
                if ".".join([*head, a.name]) in MODULES
                else ".".join(head)
                for a in node.names
            ]
        elif isinstance(node, ast.Import):
            candidates = [
                a.name.removeprefix("chainrule").lstrip(".")
                for a in node.names
                if a.name.split(".")[0] == "chainrule"
            ]
        else:
            continue
        targets.update(c for c in candidates if c in MODULES and c != module)
    return targets


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def test_every_module_has_a_layer():
    for module in MODULES:
        _layer(module)


@pytest.mark.parametrize("module", sorted(MODULES), ids=lambda m: m or "chainrule")
def test_imports_point_down(module):
    mine = _layer(module)
    upward = sorted(t for t in GRAPH[module] if _layer(t) > mine)
    assert not upward, f"chainrule.{module} (layer {mine}) imports a higher layer: " + ", ".join(
        f"{t} (layer {_layer(t)})" for t in upward
    )


def test_no_import_cycle():
    # Depth-first search for a back edge, reporting the circle it closes.
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        path.append(m)
        for t in sorted(GRAPH[m]):
            if t.startswith(m + ".") and m:  # a package importing its own submodules
                pass
            if state.get(t) == 1:
                circle = path[path.index(t) :] + [t]
                pytest.fail("import circle: " + " -> ".join(c or "chainrule" for c in circle))
            if t not in state:
                visit(t)
        path.pop()
        state[m] = 2

    for m in sorted(MODULES):
        if m not in state:
            visit(m)


def test_the_checker_sees_an_upward_import(tmp_path):
    """The parser resolves relative, absolute and call-time imports (so the tests above
    can fail)."""
    text = (
        "from .. import _tensor\n"
        "from .._record import apply\n"
        "def f():\n"
        "    from chainrule.transforms import grad\n"
        "import chainrule.jacobians\n"
    )
    fake = tmp_path / "fake.py"
    fake.write_text(text)
    assert _imports("ops.fake", fake) == {"_tensor", "_record", "transforms", "jacobians"}


def test_no_source_file_over_500_lines():
    long = {
        m or "chainrule": n
        for m, p in MODULES.items()
        if (n := len(p.read_text().splitlines())) > 500
    }
    assert not long, f"source files over 500 lines: {long}"


def _declared() -> set[str]:
    """The names TensorAPI declares for type checkers (its TYPE_CHECKING block)."""
    tree = ast.parse(pathlib.Path(_tensor_api.__file__).read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "TensorAPI")
    block = next(n for n in cls.body if isinstance(n, ast.If))
    return {n.name for n in block.body if isinstance(n, ast.FunctionDef)}


def test_declared_and_bound_methods_are_one_set():
    declared, bound = _declared(), set(_tensor_methods.BOUND)
    assert declared - bound == set(), "declared in TensorAPI but never bound"
    assert bound - declared == set(), "bound onto Tensor but not declared in TensorAPI"
    for name in bound:
        assert getattr(Tensor, name) is _tensor_methods.BOUND[name] or isinstance(
            Tensor.__dict__[name], property
        ), name


def test_public_face_shows_only_public_names():
    shown = set(dir(chainrule))
    assert shown == {*chainrule.__all__, "__version__", "scipy", "graph"}
    assert not {"annotations", "ops", "errors", "function", "np"} & shown
    for name in chainrule.__all__:
        assert getattr(chainrule, name) is not None
