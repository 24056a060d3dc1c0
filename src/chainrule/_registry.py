"""The primitive registry: every differentiable operation chainrule knows.

How to add a primitive
======================
A primitive is one block: its forward on arrays, one VJP per differentiable
input, and (optionally) its JVP. Write it with ``defprim`` next to its
relatives, in the ``ops/`` module of its NumPy family (``elementwise``,
``reductions``, ``shape``, ``indexing``, ``creation``, ``linalg``,
``decompositions``, ``norms``, ``fft``, ``statistics``, ``calculus``,
``special``)::

    SINH = defprim(
        "sinh", np.sinh,
        lambda g, ans, x: g * np.cosh(x),   # VJP for input 0
        elementwise=True,                   # JVP derived from the VJP
    )
    UFUNC_RULES[np.sinh] = SINH             # reached by np.sinh(t)

A NumPy function that is not a ufunc is reached through ``implements``; its
implementation runs the primitive with ``apply`` (``chainrule._record``), which
records when an argument is a Tensor::

    @implements(np.linalg.inv)
    def inv(a):
        return apply(INV, a)

That one file, plus the primitive's row in ``tests/test_registry_grads.py``, is
all a new primitive takes: the generic test then checks its reverse and forward
rules, their mixes and second order against finite differences (a meta-test
fails while the row is missing). A new module under ``ops/`` is also listed in
``ops/__init__.py``, whose import registers the rules. A function with no
derivative of its own is better written as a composite of existing primitives
(NumPy calls on Tensors, as ``ops/statistics.py`` does): nothing new to get
wrong.

The VJP contract
----------------
``vjp_i(g, ans, *args, **kwargs)`` returns the gradient for positional input
``i`` given the upstream gradient ``g`` (shaped like the output), the forward
output ``ans`` and the forward's own arguments. It may return ``None`` (no
gradient). It need **not**:

* reduce over broadcast axes or reshape to the input's shape -- the engine
  sums broadcast axes (the result may have the output's broadcast shape);
* cast to the input's dtype -- the engine casts;
* accumulate at forks -- the engine adds.

Write rules with NumPy calls (``np.where``, ``np.sum``, ``@``), never with
``.data`` or in-place writes: the same rule then runs at full speed on arrays
and records itself when given Tensors, which is all that ``create_graph=True``
and ``grad(grad(f))`` need.

What the rules read
-------------------
``reads=`` says which values the VJPs read: ``"inputs and output"`` (the
default, always safe), ``"inputs"``, ``"output"``, or ``"shapes"`` (only
shapes and dtypes). What is not read is not kept alive by the tape: a large
unread input is saved as a zero-byte stand-in with its shape and dtype, and an
unread output is not saved, so the intermediates of a long computation are
freed as soon as nothing needs them. An elementwise ufunc whose rules read no
input may also write its result into a temporary input's array (``elide``, set
by ``elementwise._ufunc``; see ``_elide.temporary``). The generic registry test
(reverse, forward and second order for every row) catches a wrong declaration.

Reusing buffers
---------------
``reuse=`` (optional, for hot elementwise primitives on large arrays) computes
every needed gradient at once, writing into buffers the backward sweep no longer
needs: ``reuse(g, ans, args, free, needed)``, where ``free`` flags which of
``(g, ans, *args)`` only the sweep holds (each of ``g``'s shape and dtype), and
``needed[i]`` says whether input ``i`` wants a gradient. It returns one gradient
per input (None where not needed), or None to fall back to the VJPs. The engine
calls it only on a node it is releasing, in plain (not create_graph) mode.
``tests/test_buffer_reuse.py`` checks each reuse rule against the VJPs, and a
meta-test there fails when a primitive's rule has no case.

Shortcuts
---------
* ``elementwise=True``: the Jacobian is diagonal (per broadcast element), so
  the JVP is the sum of the VJPs applied to the tangents.
* ``linear=True``: the primitive is linear in its differentiable inputs, so the
  JVP is the forward applied to the tangents.
* Non-differentiable functions (comparisons, ``floor``, ``argmax`` ...) are not
  primitives: list them in ``NONDIFF_UFUNCS`` / ``NONDIFF_FUNCTIONS`` (see
  ``nondiff.py``); their results carry no gradient.

Complex values
--------------
Gradients follow PyTorch's convention: for a real loss L and complex z,
``grad z = dL/dRe(z) + i dL/dIm(z)``. A primitive says how it treats complex
data; recording one that says nothing on complex data raises a TypeError:

* ``linear=True`` or ``complex_ok=True``: its rules have real coefficients,
  so they are valid as they are (reshape, sum, add ...).
* ``holomorphic=True``: the rules compute ``J^T g``; the complex VJP
  ``J^H g = conj(J^T conj(g))`` is derived, and the JVP is unchanged.
* ``complex_vjps=`` / ``complex_jvp=``: explicit rules (abs, conj, real, imag).

Every primitive registered here gets a row in ``tests/test_registry_grads.py``;
a meta-test fails when one is missing.

How we test
-----------
* The generic registry test runs every row (a NumPy call on sample inputs:
  0-d, broadcasting pairs, empty arrays, mixed signs) through
  ``tests/helpers.py``: reverse mode against float64 central differences with a
  random upstream gradient; forward mode (``cr.jvp``) against a directional
  central difference *and* against reverse mode -- for ``elementwise=True`` and
  ``linear=True`` rules the JVP is derived from the VJP or the forward, so
  agreement with reverse alone proves nothing; every mix of two modes (ff, fr,
  rf, rr: jvp of jvp, jvp of vjp, vjp of jvp, vjp of vjp) against differences
  of a first derivative, and three-level mixes on a seeded sample (every row
  with ``HYPOTHESIS_PROFILE=thorough``); complex inputs, where NumPy defines
  the row, against differences along the real and imaginary directions; and
  float32 (NumPy's output dtype, float32 gradients and tangents, values near
  float64). The finite differences share no code with ``cr.gradcheck``,
  itself under test.
* ``tests/test_properties.py`` is a hypothesis fuzzer: random NumPy programs
  of elementwise, reduction and broadcasting steps, checked the same ways.
* Values come from closed forms or finite differences, never from another
  chainrule path that runs the same code. A check that does not apply calls
  ``pytest.skip`` saying why (no early ``return``); ``pytest.raises`` always
  has ``match=``.
* A realistic bug must fail a test: plant it in ``src/`` (a rule rewritten as
  ``y * ans / x``, ``trunc`` for ``floor``, a dropped cast), run the tests
  that should catch it, see one fail, then ``git checkout`` the file. A bug no
  test catches earns one (``tests/test_planted_bugs.py`` holds those, each
  naming its bug).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "FUNCTION_RULES",
    "METADATA_FUNCTIONS",
    "NONDIFF_FUNCTIONS",
    "NONDIFF_UFUNCS",
    "PRIMITIVES",
    "UFUNC_RULES",
    "Primitive",
    "VariadicVJP",
    "astype",
    "complex_record",
    "defprim",
    "implements",
    "qualified_name",
    "subscript",
]

VJP = Callable[..., Any]


class VariadicVJP:
    """VJP table for primitives with any number of inputs (``concatenate``, ``einsum``).

    ``rule(i, g, ans, *args, **kwargs)`` serves every input; indexing yields a
    rule bound to input ``i`` so the engine treats it like a fixed tuple.
    """

    __slots__ = ("rule",)

    def __init__(self, rule: Callable[..., Any]) -> None:
        self.rule = rule

    def __getitem__(self, i: int) -> VJP:
        rule = self.rule
        return lambda g, ans, *args, **kwargs: rule(i, g, ans, *args, **kwargs)

    def __len__(self) -> int:  # any index is served
        return 1 << 30


class Primitive:
    """One differentiable operation: forward, VJPs and JVP in one record."""

    __slots__ = (
        "complex_prim",
        "elementwise",
        "elide",
        "fun",
        "jvp",
        "linear",
        "name",
        "reads_inputs",
        "reads_output",
        "reuse",
        "vjps",
    )

    def __init__(
        self,
        name: str,
        fun: Callable[..., Any],
        vjps: Sequence[VJP | None] | VariadicVJP,
        jvp: Callable[..., Any] | None,
        elementwise: bool,
        linear: bool,
    ) -> None:
        self.name = name
        self.fun = fun
        self.vjps = vjps
        self.jvp = jvp
        self.elementwise = elementwise
        self.linear = linear
        # Whether the VJPs read the values of the differentiable inputs / of the output
        # (not just their shapes). What is not read is not kept alive by the tape.
        self.reads_inputs = True
        self.reads_output = True
        # Optional: the VJPs computed into buffers the backward sweep no longer needs.
        self.reuse: Callable[..., Any] | None = None
        # The ufunc, when the primitive is one whose rules do not read its inputs: then
        # its result may be written into a temporary input's array (see _record.apply1).
        self.elide: np.ufunc | None = None
        # The record used when the data is complex (itself, a derived one, or None).
        self.complex_prim: Primitive | None = None

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"


# name -> Primitive, for the generic gradient test and docs/coverage.
PRIMITIVES: dict[str, Primitive] = {}
# np.ufunc -> Primitive, reached through __array_ufunc__.
UFUNC_RULES: dict[np.ufunc, Primitive] = {}
# NumPy function -> implementation on Tensors, reached through __array_function__.
FUNCTION_RULES: dict[Callable[..., Any], Callable[..., Any]] = {}
# Ufuncs and functions whose results carry no gradient.
NONDIFF_UFUNCS: set[np.ufunc] = set()
NONDIFF_FUNCTIONS: set[Callable[..., Any]] = set()
# Functions that only read metadata (np.shape, np.ndim ...): they see the data.
METADATA_FUNCTIONS: set[Callable[..., Any]] = set()


def defprim(
    name: str,
    fun: Callable[..., Any],
    *vjps: VJP | None,
    variadic_vjp: Callable[..., Any] | None = None,
    jvp: Callable[..., Any] | None = None,
    elementwise: bool = False,
    linear: bool = False,
    complex_ok: bool = False,
    holomorphic: bool = False,
    complex_vjps: Sequence[VJP | None] | None = None,
    complex_jvp: Callable[..., Any] | None = None,
    reads: str = "inputs and output",
    reuse: Callable[..., Any] | None = None,
) -> Primitive:
    """Register a primitive and return it. See the module docstring."""
    if name in PRIMITIVES:
        raise ValueError(f"primitive {name!r} is registered twice")
    table: Sequence[VJP | None] | VariadicVJP = (
        VariadicVJP(variadic_vjp) if variadic_vjp is not None else tuple(vjps)
    )
    prim = Primitive(name, fun, table, jvp, elementwise, linear)
    if reads not in ("inputs and output", "inputs", "output", "shapes"):
        raise ValueError(f"defprim({name!r}): reads={reads!r} is not a known choice")
    prim.reads_inputs = "inputs" in reads
    prim.reads_output = "output" in reads
    prim.reuse = reuse
    if linear or complex_ok:
        prim.complex_prim = prim
    elif holomorphic:
        prim.complex_prim = _conjugate_transposed(prim)
    elif complex_vjps is not None or complex_jvp is not None:
        rules: Any = complex_vjps if complex_vjps is not None else table
        prim.complex_prim = Primitive(name, fun, rules, complex_jvp or jvp, elementwise, linear)
        prim.complex_prim.complex_prim = prim.complex_prim
    PRIMITIVES[name] = prim
    return prim


def _conjugate_transposed(prim: Primitive) -> Primitive:
    """The complex record of a holomorphic primitive: J^H g = conj(J^T conj(g))."""

    def conj_rule(rule: VJP | None) -> VJP | None:
        if rule is None:
            return None
        return lambda g, ans, *args, **kw: np.conj(rule(np.conj(g), ans, *args, **kw))

    vjps = prim.vjps
    table: Sequence[VJP | None] | VariadicVJP
    if isinstance(vjps, VariadicVJP):
        inner = vjps.rule
        table = VariadicVJP(
            lambda i, g, ans, *a, **kw: np.conj(inner(i, np.conj(g), ans, *a, **kw))
        )
    else:
        table = tuple(conj_rule(r) for r in vjps)
    # The JVP of a holomorphic function is the same formula: J t.
    jvp = prim.jvp
    if jvp is None and prim.elementwise:
        real_vjps: Any = prim.vjps

        def jvp(tangents: Any, ans: Any, *args: Any, **kw: Any) -> Any:
            total = None
            for rule, t in zip(real_vjps, tangents, strict=False):
                if t is not None and rule is not None:
                    part = rule(t, ans, *args, **kw)
                    total = part if total is None else total + part
            if total is not None and np.shape(total) != np.shape(ans):
                total = np.broadcast_to(total, np.shape(ans))
            return total

    variant = Primitive(prim.name, prim.fun, table, jvp, prim.elementwise, prim.linear)
    variant.complex_prim = variant
    variant.reads_inputs, variant.reads_output = prim.reads_inputs, prim.reads_output
    return variant


def implements(
    *functions: Callable[..., Any],
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: the decorated function implements these NumPy functions on Tensors."""

    def register(impl: Callable[..., Any]) -> Callable[..., Any]:
        for f in functions:
            if f in FUNCTION_RULES:
                raise ValueError(f"{f.__name__} has two implementations")
            FUNCTION_RULES[f] = impl
        return impl

    return register


def complex_record(prim: Primitive) -> Primitive:
    """The primitive's rules for complex data, or a TypeError naming it."""
    record = prim.complex_prim
    if record is None:
        raise TypeError(
            f"chainrule has no derivative rule for '{prim.name}' on complex values. Complex "
            "data is differentiated through arithmetic, exp/log, trigonometric functions, "
            "abs, conj, real/imag, matmul/einsum, sums, shape and indexing ops, and np.fft; "
            "split into real and imaginary parts for the rest."
        )
    return record


# Registry keys for the operations on Tensors that are not NumPy functions.
def subscript(x: Any, index: Any) -> Any:
    """Registry key for ``t[index]`` (indexing is not a NumPy function)."""
    return x[index]


def astype(x: Any, dtype: Any) -> Any:
    """Registry key for ``t.astype(dtype)`` (``np.astype`` is missing before NumPy 2.1)."""
    return x.astype(dtype)


def qualified_name(func: Any) -> str:
    """``np.linalg.solve`` rather than ``solve``, for messages."""
    module = getattr(func, "__module__", None) or "numpy"
    name = getattr(func, "__name__", repr(func))
    if isinstance(func, np.ufunc) or module in (
        "numpy",
        "numpy.core.multiarray",
        "numpy._core.multiarray",
    ):
        return f"np.{name}"
    parts = module.split(".")
    if parts[0] == "numpy":
        public = [p for p in parts[1:] if not p.startswith("_")]
        return ".".join(["np", *public, name])
    return f"{module}.{name}"
