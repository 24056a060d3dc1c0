"""Write docs/coverage.md from the registry: ``python docs/gen_coverage.py``.

tests/test_coverage_doc.py fails when the committed file differs from what this
script writes, so the table cannot go stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from chainrule import _registry as reg
from chainrule._registry import astype, qualified_name, subscript
from chainrule.activations import KERNELS
from chainrule.ops import scipy_special  # noqa: F401  (SciPy's rows are part of the table)

OUT = Path(__file__).with_name("coverage.md")

# Where a row needs a word more than its ticks.
NOTES = {
    "np.prod": "exact at zeros, at every order",
    "np.cumprod": "exact at zeros, at every order",
    "np.max": "ties split the gradient evenly",
    "np.min": "ties split the gradient evenly",
    "np.amax": "ties split the gradient evenly",
    "np.amin": "ties split the gradient evenly",
    "np.maximum": "ties split the gradient evenly",
    "np.minimum": "ties split the gradient evenly",
    "np.fmax": "ties split evenly; a NaN operand gets no gradient",
    "np.fmin": "ties split evenly; a NaN operand gets no gradient",
    "np.absolute": "gradient 0 at 0; for complex z, z / abs(z)",
    "np.clip": "slope 1 at the bounds; Tensor bounds get their share",
    "np.hypot": "gradient 0 at the origin",
    "np.arctan2": "gradient 0 at the origin",
    "np.linalg.eigh": "eigenvector gradients raise at repeated eigenvalues",
    "np.linalg.svd": "full_matrices=False for non-square input; singular-vector gradients "
    "raise at repeated or zero singular values",
    "np.linalg.qr": "mode 'reduced' or 'r'; gradients for m >= n",
    "np.linalg.norm": "every vector and matrix order NumPy has; the 2-norm's gradient is 0 at 0",
    "np.linalg.lstsq": "x and residuals differentiable; rank and singular values constant",
    "np.pad": "mode='constant' only",
    "np.nanquantile": "method='linear' only",
    "np.nanpercentile": "method='linear' only",
    "np.matvec": "real or complex; no axes= keyword",
    "np.vecmat": "real data; no axes= keyword",
    "np.vecdot": "real data; for axis= use np.linalg.vecdot",
    "np.choose": "gradient for the choices (the index array is an integer constant)",
    "np.unwrap": "the correction is piecewise constant: the gradient passes through",
    "np.geomspace": "real endpoints of one sign",
    "np.polyfit": "full=False, cov=False",
    "np.roots": "through eigvals of the companion matrix",
    "np.i0": "derivative I1 from a NumPy-only series",
    "np.linalg.cross": "3-vectors",
    "np.quantile": "method='linear' only",
    "np.percentile": "method='linear' only",
    "np.nanmedian": "no NaNs present only",
    "np.einsum": "string subscripts; repeated and ellipsis indices",
    "np.power": "exponent gradient taken as 0 at base 0",
    "np.float_power": "exponent gradient taken as 0 at base 0",
    "np.fft.irfft": "explicit Hermitian rule",
    "np.fft.irfftn": "explicit Hermitian rule",
    "np.fft.irfft2": "explicit Hermitian rule",
    "scipy.special.jv": "no gradient for the order v (raises)",
    "scipy.special.yv": "no gradient for the order v (raises)",
    "scipy.special.iv": "no gradient for the order v (raises)",
    "scipy.special.kv": "no gradient for the order v (raises)",
    "scipy.special.gammainc": "no gradient for the shape a (raises)",
    "scipy.special.gammaincc": "no gradient for the shape a (raises)",
}


# NumPy functions that take arrays and have no rule, with the reason. Input/output and
# printing are left out of the page altogether (they produce no array to differentiate).
NOT_LISTED = {
    "np.save",
    "np.savez",
    "np.savez_compressed",
    "np.savetxt",
    "np.array2string",
    "np.array_repr",
    "np.array_str",
    "np.datetime_as_string",
}
IN_PLACE = "writes into its argument in place: use `t[index] = v` (recorded) or `np.where`"
REASONS = {
    "np.copyto": IN_PLACE,
    "np.put": IN_PLACE,
    "np.place": IN_PLACE,
    "np.putmask": IN_PLACE,
    "np.put_along_axis": IN_PLACE,
    "np.fill_diagonal": IN_PLACE,
    "np.busday_count": "dates (datetime64) only",
    "np.busday_offset": "dates (datetime64) only",
    "np.is_busday": "dates (datetime64) only",
    "np.divmod": "two outputs: use `np.floor_divide` (no gradient) and `np.remainder`",
    "np.frexp": "two outputs, one an integer exponent: use `np.log2` and `np.ldexp`",
    "np.modf": "two outputs: use `x - np.trunc(x)` and `np.trunc` (no gradient)",
    "np.fft.hfft": "no rule yet: `np.fft.irfft(np.conj(a), n) * n` is the same transform",
    "np.fft.ihfft": "no rule yet: `np.conj(np.fft.rfft(a)) / n` is the same transform",
}
# Deprecated aliases in older NumPy versions (gone from NumPy 2.x): use the new name.
for _old, _new in {
    "row_stack": "vstack",
    "product": "prod",
    "cumproduct": "cumprod",
    "alltrue": "all",
    "sometrue": "any",
    "round_": "round",
    "msort": "sort",
    "trapz": "trapezoid",
    "in1d": "isin",
}.items():
    REASONS[f"np.{_old}"] = f"deprecated alias: use `np.{_new}`"
NO_REASON = "no rule yet"


def not_supported() -> list[tuple[str, str]]:
    """NumPy's array functions and ufuncs with no rule, computed from its namespaces."""
    covered = (
        set(reg.FUNCTION_RULES)
        | set(reg.NONDIFF_FUNCTIONS)
        | set(reg.METADATA_FUNCTIONS)
        | set(reg.UFUNC_RULES)
        | set(reg.NONDIFF_UFUNCS)
    )
    found = {}
    for module, prefix in ((np, "np."), (np.linalg, "np.linalg."), (np.fft, "np.fft.")):
        for attr in dir(module):
            f = getattr(module, attr)
            # Array functions dispatch on their arguments (`_implementation`); ufuncs too.
            takes_arrays = isinstance(f, np.ufunc) or hasattr(f, "_implementation")
            name = prefix + attr
            if attr.startswith("_") or not takes_arrays or name in NOT_LISTED:
                continue
            if f not in covered:
                found[name] = REASONS.get(name, NO_REASON)
    return sorted(found.items())


def _name(f: object) -> str:
    if f is subscript:
        return "t[index]"
    if f is astype:
        return "t.astype(dtype)"
    return qualified_name(f)


def _scipy_ufuncs() -> set:
    import scipy.special as sp

    return {getattr(sp, n) for n in dir(sp) if isinstance(getattr(sp, n), np.ufunc)}


def _row(name: str, prim: reg.Primitive | None, kind: str) -> str:
    tick = "✔"
    if prim is None:
        jvp = tick
        cplx = "via its parts"
    else:
        jvp = tick if (prim.jvp is not None or prim.elementwise or prim.linear) else "✘"
        cplx = tick if prim.complex_prim is not None else "—"
    note = NOTES.get(name, "")
    return f"| `{name}` | {kind} | {tick} | {jvp} | {tick} | {cplx} | {note} |"


def render() -> str:
    scipy_ufuncs = _scipy_ufuncs()
    rows = []
    for ufunc, prim in reg.UFUNC_RULES.items():
        name = (
            ("scipy.special." + ufunc.__name__) if ufunc in scipy_ufuncs else f"np.{ufunc.__name__}"
        )
        rows.append((name, _row(name, prim, "ufunc")))
    for f in reg.FUNCTION_RULES:
        name = _name(f)
        rows.append((name, _row(name, None, "function")))
    for f in KERNELS:
        name = f"cr.{f.__name__}"
        rows.append((name, _row(name, None, "kernel")))
    rows.sort(key=lambda r: (r[0].split(".")[0] != "np", r[0]))
    nondiff = sorted(
        {f"np.{u.__name__}" for u in reg.NONDIFF_UFUNCS}
        | {qualified_name(f) for f in reg.NONDIFF_FUNCTIONS}
    )
    lines = [
        "# What chainrule differentiates",
        "",
        "Generated from the primitive registry by `python docs/gen_coverage.py`; a test fails",
        "when this file is stale. Every row is checked by the generic registry test",
        "(`tests/test_registry_grads.py`) against float64 finite differences: reverse mode,",
        "forward mode (`<J v, u> == <v, J^T u>`), and second order (forward-over-reverse and",
        "reverse-over-reverse Hessian-vector products against differences of the gradient).",
        "",
        "Kind: *ufunc* reaches its primitive through `__array_ufunc__`; *function* through",
        "`__array_function__` (a primitive or a composite of primitives); *kernel* is one of",
        "chainrule's stable activation kernels. Complex: the primitive's rules for complex",
        "data (PyTorch's convention, see docs/guide.md); functions inherit theirs from",
        "their parts, and any part without complex rules raises a TypeError naming it.",
        "",
        f"{len(rows)} differentiable functions.",
        "",
        "| function | kind | VJP | JVP | higher order | complex | notes |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *[r for _, r in rows],
        "",
        "## Not differentiable: results carry no gradient",
        "",
        ", ".join(f"`{n}`" for n in nondiff),
        "",
        "## Not supported",
        "",
        "NumPy's functions that take arrays and have no rule here, computed from NumPy's",
        "namespaces (input/output and printing left out). Called on a Tensor, each raises a",
        "`TypeError` naming it.",
        "",
        "| function | why |",
        "| --- | --- |",
        *[f"| `{name}` | {why} |" for name, why in not_supported()],
        "",
        *backend_gaps(),
    ]
    return "\n".join(lines)


def backend_gaps() -> list[str]:
    """The registry rows that do not run on Dask or the device stand-in, with the reason
    (tests/backend_gaps.py, kept honest by tests/test_backends.py)."""
    path = Path(__file__).resolve().parents[1] / "tests" / "backend_gaps.py"
    table: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), table)  # a plain data module
    lines = [
        "## Backends: Dask and CuPy",
        "",
        "Every row of the registry table also runs on Dask (chunked, lazy: nothing computed",
        "before the test computes) and on a strict device stand-in that refuses host copies",
        "as CuPy does (`tests/test_backends.py`), and must equal the NumPy result. The rows",
        "below do not run there; each raises the error named by its reason.",
        "",
    ]
    for backend, groups in table["GAPS"].items():
        n = sum(len(ids) for _, ids in groups.values())
        lines += [f"### {backend} ({n} rows)", "", "| reason | rows |", "| --- | --- |"]
        for reason, (_, ids) in groups.items():
            lines.append(f"| {reason} | {', '.join(f'`{i}`' for i in ids)} |")
        lines.append("")
    return lines


if __name__ == "__main__":
    OUT.write_text(render())
    print(f"wrote {OUT} ", file=sys.stderr)
