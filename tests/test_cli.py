"""The chainrule command line: check, draw and explain on a user's file, through subprocess
and main()."""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import chainrule
from chainrule._cli import main

ROOT = Path(__file__).resolve().parents[1]
needs_graphviz = pytest.mark.skipif(
    importlib.util.find_spec("graphviz") is None, reason='needs pip install "chainrule[viz]"'
)
needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="needs Graphviz's dot program (apt-get install graphviz)"
)

# What a user would write: the forum's sigmoid whose backward forgot dy, the fixed one,
# and the lecture's staged function.
USER_FILE = """
import numpy as np
import chainrule as cr


class Sigmoid(cr.Function):
    def forward(self, x):
        y = 1 / (1 + np.exp(-x))
        self.save_for_backward(y)
        return y

    def backward(self, dy):
        (y,) = self.saved_tensors
        return y * (1 - y)  # forgot dy


class FixedSigmoid(Sigmoid):
    def backward(self, dy):
        (y,) = self.saved_tensors
        return dy * y * (1 - y)


def staged(x, y):
    sigy = 1.0 / (1 + np.exp(-y))
    num = x + sigy
    sigx = 1.0 / (1 + np.exp(-x))
    xpy = x + y
    xpysqr = xpy**2
    den = sigx + xpysqr
    invden = 1.0 / den
    return num * invden


def log_norm(x):
    return np.sum(np.log(x))


def double(x):
    return 2.0 * x


def broken(x):
    raise ValueError("broken on purpose")


NOT_A_FUNCTION = 3
"""


@pytest.fixture
def user_file(tmp_path):
    path = tmp_path / "mymodel.py"
    path.write_text(USER_FILE)
    return path


def run_cli(*args):
    """``python -m chainrule ...`` with this checkout's chainrule first on the path."""
    env = dict(os.environ)
    src = str(Path(chainrule.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-W", "error", "-m", "chainrule", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_check_diagnoses_the_forum_sigmoid_that_ignored_dy(user_file):
    proc = run_cli("check", f"{user_file}:Sigmoid", "--shape", "3")
    assert proc.returncode == 1, proc.stderr
    assert "ignores its upstream gradient dy" in proc.stdout
    assert "return dy * y * (1 - y)" in proc.stdout and proc.stderr == ""


def test_check_by_calling_main(user_file, capsys):
    assert main(["check", f"{user_file}:Sigmoid", "--shape", "2,3", "--modes", "rev"]) == 1
    assert "ignores its upstream gradient dy" in capsys.readouterr().out
    assert main(["check", f"{user_file}:FixedSigmoid", "--shape", "2,3", "--seed", "4"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("gradcheck passed: FixedSigmoid on float64[2, 3]")
    assert "modes rev, fwd" in out and "seed 4" in out
    args = ["check", f"{user_file}:staged", "--shape", "scalar", "--shape", "scalar"]
    assert main([*args, "--order", "2", "--dtype", "float32"]) == 0
    assert "float32[], float32[]" in capsys.readouterr().out


def test_positive_inputs_for_a_logarithm(user_file, capsys):
    assert main(["check", f"{user_file}:log_norm", "--shape", "4", "--positive"]) == 0
    capsys.readouterr()
    assert main(["check", f"{user_file}:log_norm", "--shape", "4"]) == 1  # log of negatives
    out = capsys.readouterr().out
    assert "NaN" in out and "add --positive" in out


@needs_graphviz
@needs_dot
def test_draw_writes_the_lecture_function_as_svg(user_file, tmp_path):
    out = tmp_path / "graph.svg"
    proc = run_cli(
        "draw", f"{user_file}:staged", "--shape", "scalar", "--shape", "scalar", "-o", out
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"wrote {out}"
    root = ET.parse(out).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts.count("x") == 1 and texts.count("y") == 1 and "multiply" in texts


@needs_graphviz
def test_draw_by_calling_main(user_file, tmp_path, capsys):
    args = ["draw", f"{user_file}:staged", "--shape", "scalar", "--shape", "scalar"]
    assert main([*args, "--grads"]) == 0
    source = capsys.readouterr().out
    assert source.startswith("digraph {") and "|g| " in source
    assert main(args) == 0
    plain = capsys.readouterr().out
    assert "|g|" not in plain
    gv = tmp_path / "graph.gv"
    assert main([*args, "-o", str(gv)]) == 0  # DOT text: no dot program needed
    assert gv.read_text() == plain and capsys.readouterr().out == f"wrote {gv}\n"


def test_explain_prints_the_lecture_program_that_runs(user_file):
    proc = run_cli("explain", f"{user_file}:staged", "--shape", "scalar", "--shape", "scalar")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    text = proc.stdout
    # The user's own names, the lecture's sigmoid gradient, and both inputs' gradients.
    assert "def staged(x, y):" in text and "    sigy = 1.0 / (1 + np.exp(-y))" in text
    assert "((1 - sigy) * sigy) * dsigy" in text and "return out, (dx, dy)" in text
    scope = {}
    exec(text, scope)  # the printed program runs: it is the backprop of staged
    out, (dx, dy) = scope["staged"](3.0, -4.0)
    assert np.isclose(dx, 2.0595697956) and np.isclose(dy, 1.5922327515)


def test_explain_by_calling_main_with_argnums(user_file, capsys):
    args = ["explain", f"{user_file}:staged", "--shape", "scalar", "--shape", "scalar"]
    assert main([*args, "--argnums", "1"]) == 0
    text = capsys.readouterr().out
    assert "return out, dy" in text and "dx =" not in text
    proc = run_cli("explain", f"{user_file}:double", "--shape", "2,3")  # not a scalar: 2
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("chainrule explain: TypeError: cr.explain: f must return")


@pytest.mark.parametrize(
    "args, message",
    [
        (["check", "{dir}/nope.py:f", "--shape", "3"], r"no such file: .*nope\.py"),
        (["check", "{file}:Nope", "--shape", "3"], r"has no 'Nope'; it defines: .*FixedSigmoid"),
        (["check", "{file}", "--shape", "3"], r"expected path/to/module\.py:Name"),
        (["check", "{file}:NOT_A_FUNCTION", "--shape", "3"], r"is a int, not a function"),
        (["check", "{file}:staged", "--shape", "3,x"], r"bad --shape '3,x'.*--shape 3,4"),
        (["check", "{file}:staged", "--shape", "0"], r"bad --shape '0'"),
        (["check", "{file}:staged", "--shape", "3"], r"staged takes 2 input\(s\), 1 --shape"),
        (["check", "{file}:Sigmoid"], r"Sigmoid takes 1 input\(s\), 0 --shape"),
        (["check", "{file}:staged", "--shape", "3", "--shape", "3", "--dtype", "int32"], "float"),
        (["check", "{file}:Sigmoid", "--shape", "3", "--modes", "back"], r"bad --modes 'back'"),
        (["check", "{file}:broken", "--shape", "3"], "broken raised ValueError: broken on"),
        (["check", "{bad}:f", "--shape", "3"], r"could not import .*bad\.py: ModuleNotFoundError"),
        (["check", "{syntax}:f", "--shape", "3"], r"could not import .*: SyntaxError"),
        (["check", "{file}:staged", "--seed", "x"], r"argument --seed: invalid int value"),
        (["draw", "{file}:Sigmoid", "--shape", "3", "-o", "{dir}/g.xyz"], r"format of .*g\.xyz"),
        (["explain", "{file}:log_norm", "--shape", "3", "--argnums", "1"], r"bad --argnums '1'"),
        (["explain", "{file}:Sigmoid", "--shape", "3"], r"cr\.explain: 'Sigmoid' is not one of"),
        (["explain", "{file}:broken", "--shape", "3"], "broken raised ValueError: broken on"),
        (["explain", "{file}:staged", "--shape", "3"], r"staged takes 2 input\(s\), 1 --shape"),
        (["nope"], r"invalid choice: 'nope'.*usage"),
    ],
)
def test_mistakes_are_one_line_on_stderr_with_exit_2(args, message, user_file, capsys):
    if any(a.endswith(".xyz") for a in args) and importlib.util.find_spec("graphviz") is None:
        pytest.skip('needs pip install "chainrule[viz]"')
    folder = user_file.parent
    (folder / "bad.py").write_text("import no_such_module_for_chainrule\n")
    (folder / "syntax.py").write_text("def f(:\n")
    places = {"dir": folder, "file": user_file, "bad": folder / "bad.py"}
    places["syntax"] = folder / "syntax.py"
    assert main([a.format(**places) for a in args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert re.search(message, captured.err), captured.err


def test_a_mistake_through_subprocess_has_no_traceback(tmp_path):
    proc = run_cli("check", f"{tmp_path}/missing.py:f", "--shape", "3")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == f"chainrule check: no such file: {tmp_path}/missing.py\n"


@pytest.mark.parametrize("verb", ["", "demo", "check", "draw", "explain"])
def test_every_verb_has_help(verb, capsys):
    assert main([verb, "--help"] if verb else ["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: chainrule {verb}".rstrip())
    if verb in ("check", "draw", "explain"):
        assert "--shape" in out and "path/to/module.py:Name" in out


def test_the_console_script_points_at_main():
    text = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^\[project\.scripts\]\nchainrule = "chainrule\._cli:main"$', text, re.M)
    assert main.__module__ == "chainrule._cli"
