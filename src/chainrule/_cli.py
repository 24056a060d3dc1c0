"""The ``chainrule`` command line: ``demo``, ``check``, ``draw`` and ``explain``.

``chainrule check path/to/module.py:Name --shape 3,4`` imports a user's
``cr.Function`` or plain function from a file and runs ``cr.gradcheck`` on
random inputs; ``chainrule draw ... -o graph.svg`` draws its graph;
``chainrule explain ...`` prints ``cr.explain``'s program of its forward and
backward pass. Mistakes in the command (a missing file or name, a bad shape, a
module that fails to import, a function that raises or that ``cr.explain``
cannot write out) give one line on stderr and exit status 2; a gradient error
exits 1.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

__all__ = ["main"]

DOT_SOURCE = (".gv", ".dot")


class UsageError(Exception):
    """A mistake in the command: reported on one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line instead of argparse's usage block: the pointer to --help is enough.
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help' for usage)\n")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (0 pass, 1 gradient error, 2 misuse).

    >>> from chainrule._cli import main
    >>> main(["check", "no/such/file.py:f", "--shape", "3"])
    2
    """
    parser = _parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as e:  # --help, or a mistake argparse reported
        return e.code if isinstance(e.code, int) else 2
    try:
        return int(args.run(args))
    except UsageError as e:
        print(f"chainrule {args.command}: {e}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="chainrule",
        description="chainrule: automatic differentiation of plain NumPy code.",
    )
    verbs = parser.add_subparsers(
        dest="command", required=True, metavar="{demo,check,draw,explain}"
    )
    demo = verbs.add_parser(
        "demo", help="print the worked examples of the seed documents", prog="chainrule demo"
    )
    demo.set_defaults(run=_demo)
    check = verbs.add_parser(
        "check",
        help="gradcheck a function or cr.Function from a file on random inputs",
        description="Import Name from a Python file and run cr.gradcheck on random inputs, "
        "one per --shape. Exit 0 on pass, 1 on a gradient error, 2 on a mistake in the command.",
        prog="chainrule check",
    )
    _common(check)
    check.add_argument(
        "--modes", default="rev,fwd", help="comma-separated: rev, fwd or both (default rev,fwd)"
    )
    check.add_argument(
        "--order", type=int, choices=(1, 2), default=1, help="2 also checks second derivatives"
    )
    check.set_defaults(run=_check)
    draw = verbs.add_parser(
        "draw",
        help="draw the graph of a function or cr.Function from a file",
        description="Import Name from a Python file, run it on random inputs (one per --shape) "
        "and draw its graph with cr.draw. The format follows the suffix of -o (.svg, .png, "
        ".pdf, ...; .gv or .dot write the DOT text); without -o the DOT text is printed.",
        prog="chainrule draw",
    )
    _common(draw)
    draw.add_argument("-o", "--output", help="file to write, e.g. graph.svg")
    draw.add_argument(
        "--grads", action="store_true", help="label each edge with its gradient's norm"
    )
    draw.set_defaults(run=_draw)
    explain = verbs.add_parser(
        "explain",
        help="print the forward and backward pass of a function from a file as NumPy code",
        description="Import Name from a Python file, run it on random inputs (one per --shape) "
        "and print cr.explain's program: the forward pass, one named line per operation, "
        "then the gradient of each intermediate. Name must return a scalar. Exit 0 on "
        "success, 2 on a mistake in the command or a function cr.explain cannot write out.",
        prog="chainrule explain",
    )
    _common(explain)
    explain.add_argument(
        "--argnums",
        help="comma-separated positions of the inputs to differentiate (default: all)",
    )
    explain.set_defaults(run=_explain)
    return parser


def _common(verb: argparse.ArgumentParser) -> None:
    verb.add_argument("target", metavar="path/to/module.py:Name", help="the file and the name")
    verb.add_argument(
        "--shape",
        action="append",
        default=[],
        help="shape of one input, e.g. 3,4 (scalar: 'scalar'); repeat for each input",
    )
    verb.add_argument("--dtype", default="float64", help="dtype of the inputs (default float64)")
    verb.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default 0)")
    verb.add_argument(
        "--positive",
        action="store_true",
        help="positive inputs, in [0.5, 2) (for log, sqrt, ...)",
    )


# --------------------------------------------------------------------------- verbs
def _demo(args: argparse.Namespace) -> int:
    from ._demo import main as demo

    demo()
    return 0


def _check(args: argparse.Namespace) -> int:
    from .errors import BackwardError, GradcheckError
    from .gradcheck import gradcheck

    fn, name = _load(args.target)
    inputs = _inputs(fn, name, args)
    modes = _modes(args.modes)
    try:
        gradcheck(fn, *inputs, seed=args.seed, order=args.order, modes=modes)
    except (GradcheckError, BackwardError) as e:
        print(f"{type(e).__name__}: {e}")
        if "not finite" in str(e) and not args.positive:
            print("  (the inputs were standard normal: add --positive for a function of x > 0)")
        return 1
    except Exception as e:
        raise UsageError(f"{name} raised {_one_line(e)}") from None
    shown = ", ".join(_type(x) for x in inputs)
    print(
        f"gradcheck passed: {name} on {shown} (modes {', '.join(modes)}, order {args.order}, "
        f"seed {args.seed})"
    )
    return 0


def _draw(args: argparse.Namespace) -> int:
    from ._draw import draw

    fn, name = _load(args.target)
    inputs = _inputs(fn, name, args)
    output = Path(args.output) if args.output else None
    fmt = _format(output) if output is not None else None
    try:
        dot = draw(fn, *inputs, grads=args.grads)
    except ImportError as e:
        raise UsageError(str(e)) from None
    except Exception as e:
        raise UsageError(f"{name} raised {_one_line(e)}") from None
    if output is None:
        print(dot.source, end="")
        return 0
    if fmt is None:
        output.write_text(dot.source)
    else:
        import graphviz

        try:
            data = dot.pipe(format=fmt)
        except graphviz.ExecutableNotFound:
            raise UsageError(
                "Graphviz's dot program is missing, so nothing can be rendered: install it "
                "(apt-get install graphviz, brew install graphviz), or write the DOT text "
                "with -o graph.gv"
            ) from None
        output.write_bytes(data)
    print(f"wrote {output}")
    return 0


def _explain(args: argparse.Namespace) -> int:
    from ._draw import _callable
    from .errors import BackwardError
    from .staging.explain import explain

    fn, name = _load(args.target)
    inputs = _inputs(fn, name, args)
    argnums = _argnums(args.argnums, len(inputs))
    try:
        # One input differentiated: its gradient alone, not a 1-tuple (as cr.grad does).
        program = explain(
            _callable(fn), *inputs, argnums=argnums[0] if len(argnums) == 1 else argnums
        )
    except BackwardError as e:
        print(f"{type(e).__name__}: {e}")
        return 1
    except Exception as e:
        # cr.explain's own errors say what it cannot write out; others are the function's.
        text = _one_line(e)
        raise UsageError(text if "cr.explain:" in text else f"{name} raised {text}") from None
    print(program, end="")
    return 0


# ------------------------------------------------------------------------- helpers
def _load(target: str) -> tuple[Any, str]:
    """``path/to/module.py:Name`` -> (the object, its name), importing the file."""
    path_text, sep, name = target.rpartition(":")
    if not sep or not path_text or not name:
        raise UsageError(f"expected path/to/module.py:Name, got {target!r}")
    path = Path(path_text)
    if not path.is_file():
        raise UsageError(f"no such file: {path_text}")
    module_name = f"_chainrule_user_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"{path_text} is not a Python file that can be imported")
    module = importlib.util.module_from_spec(spec)
    # The file may import its neighbours, as it would when run as a script.
    sys.path.insert(0, str(path.resolve().parent))
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        raise UsageError(f"could not import {path_text}: {_one_line(e)}") from None
    finally:
        sys.path.remove(str(path.resolve().parent))
    obj: Any = module
    for part in name.split("."):
        if not hasattr(obj, part):
            defined = sorted(
                k for k, v in vars(module).items() if callable(v) and not k.startswith("_")
            )
            listed = ", ".join(defined) or "nothing callable"
            raise UsageError(f"{path_text} has no {name!r}; it defines: {listed}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise UsageError(f"{name} in {path_text} is a {type(obj).__name__}, not a function")
    return obj, name


def _shape(text: str) -> tuple[int, ...]:
    """``"3,4"`` -> (3, 4); ``"scalar"`` or ``"()"`` -> ()."""
    cleaned = text.strip().strip("()[]").strip()
    if text.strip() in ("scalar", "()", "[]"):
        return ()
    try:
        dims = tuple(int(d) for d in cleaned.split(",") if d.strip())
    except ValueError:
        dims = ()
    if not dims or any(d <= 0 for d in dims):
        raise UsageError(
            f"bad --shape {text!r}: give positive integers separated by commas, e.g. "
            "--shape 3,4 (or --shape scalar)"
        )
    return dims


def _inputs(fn: Any, name: str, args: argparse.Namespace) -> list[np.ndarray]:
    shapes = [_shape(s) for s in args.shape]
    try:
        dtype = np.dtype(args.dtype)
    except TypeError:
        dtype = np.dtype(object)
    if dtype.kind != "f":
        raise UsageError(
            f"bad --dtype {args.dtype!r}: give a floating-point dtype (float64, float32, float16)"
        )
    arity = _arity(fn)
    if arity is not None and not arity[0] <= len(shapes) <= arity[1]:
        low, high = arity
        wanted = str(low) if low == high else f"{low} to {high}"
        raise UsageError(
            f"{name} takes {wanted} input(s), {len(shapes)} --shape given: give one "
            "--shape per input"
        )
    if not shapes:
        raise UsageError(f"give one --shape per input of {name}, e.g. --shape 3,4")
    rng = np.random.default_rng(args.seed)
    draws = [rng.uniform(0.5, 2.0, s) if args.positive else rng.standard_normal(s) for s in shapes]
    return [np.asarray(x, dtype=dtype) for x in draws]


def _arity(fn: Any) -> tuple[int, float] | None:
    """How many positional inputs ``fn`` takes (a cr.Function: its forward), if known."""
    from ._draw import parameters

    params = parameters(fn)
    if params is None:
        return None
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = sum(p.default is p.empty for p in positional)
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return required, float("inf")
    return required, len(positional)


def _modes(text: str) -> tuple[str, ...]:
    modes = tuple(m.strip() for m in text.split(",") if m.strip())
    if not modes or any(m not in ("rev", "fwd") for m in modes):
        raise UsageError(f"bad --modes {text!r}: give rev, fwd or rev,fwd")
    return modes


def _argnums(text: str | None, n: int) -> tuple[int, ...]:
    """``"0,2"`` -> (0, 2); None -> every input."""
    if text is None:
        return tuple(range(n))
    try:
        nums = tuple(int(k) for k in text.split(",") if k.strip())
    except ValueError:
        nums = ()
    if not nums or any(not 0 <= k < n for k in nums):
        raise UsageError(
            f"bad --argnums {text!r}: give input positions from 0 to {n - 1} separated by "
            "commas, e.g. --argnums 0,1"
        )
    return nums


def _format(output: Path) -> str | None:
    """The render format from the suffix; None for DOT text (.gv, .dot)."""
    suffix = output.suffix.lower()
    if suffix in DOT_SOURCE:
        return None
    try:
        import graphviz
    except ImportError:
        raise UsageError(
            'drawing needs the graphviz package: pip install "chainrule[viz]"'
        ) from None
    fmt = suffix.lstrip(".")
    if fmt not in graphviz.FORMATS:
        raise UsageError(
            f"cannot tell the format of {output} from its suffix: use .svg, .png, .pdf "
            "(any Graphviz format), or .gv for the DOT text"
        )
    return fmt


def _type(x: np.ndarray) -> str:
    return f"{x.dtype}[{', '.join(str(d) for d in x.shape)}]"


def _one_line(e: BaseException) -> str:
    return f"{type(e).__name__}: {' '.join(str(e).split())}"
