"""cr.draw: the nodes and edges of its DOT text, gradient norms, rendering, and its errors."""

import importlib.util
import re
import shutil
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import chainrule as cr

needs_graphviz = pytest.mark.skipif(
    importlib.util.find_spec("graphviz") is None, reason='needs pip install "chainrule[viz]"'
)
needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="needs Graphviz's dot program (apt-get install graphviz)"
)
SVG = "{http://www.w3.org/2000/svg}"

_NODE = re.compile(r'^\t(\w+) \[label="([^"]*)"(.*)\]$')
_EDGE = re.compile(r'^\t(\w+) -> (\w+)(?: \[label="([^"]*)"\])?$')
_OTHER = re.compile(r"^(digraph \{|\}|\t(node|edge) \[.*\])$")


def parse(dot):
    """DOT text -> ({id: (label lines, attributes)}, [(src, dst, label)], {id: line number})."""
    nodes, edges, line_of = {}, [], {}
    for k, line in enumerate(dot.source.splitlines()):
        if m := _EDGE.match(line):
            edges.append((m[1], m[2], m[3]))
            assert m[1] in nodes and m[2] in nodes, f"edge before its nodes: {line}"
        elif m := _NODE.match(line):
            nodes[m[1]] = (m[2].split("\\n"), m[3])
            line_of[m[1]] = k
        else:
            assert _OTHER.match(line), f"unexpected DOT line: {line!r}"
    return nodes, edges, line_of


def title(nodes, node_id):
    return nodes[node_id][0][0]


def staged(x, y):
    """The lecture's staged function f(x, y) = (x + sigmoid(y)) / (sigmoid(x) + (x + y)**2)."""
    sigy = 1.0 / (1 + np.exp(-y))
    num = x + sigy
    sigx = 1.0 / (1 + np.exp(-x))
    xpy = x + y
    xpysqr = xpy**2
    den = sigx + xpysqr
    invden = 1.0 / den
    return num * invden


class Sigmoid(cr.Function):
    def forward(self, x):
        y = 1 / (1 + np.exp(-x))
        self.save_for_backward(y)
        return y

    def backward(self, dy):
        (y,) = self.saved_tensors
        return dy * y * (1 - y)


@needs_graphviz
def test_operations_leaves_constants_and_edges_in_data_flow_order():
    W = cr.tensor(np.ones((2, 3)), requires_grad=True)
    b = cr.tensor(np.zeros(3), requires_grad=True)
    c = cr.tensor(np.full((4, 3), 0.5))  # a Tensor without grad
    h = np.tanh(np.ones((4, 2)) @ W + b)
    loss = np.sum(h * c)
    dot = cr.draw(loss, names={"W": W, "b": b, "h": h, "loss": loss})
    nodes, edges, line_of = parse(dot)
    labels = {k: v[0] for k, v in nodes.items()}
    assert sorted(map(tuple, labels.values())) == sorted(
        [
            ("constant", "float64[4, 2]"),
            ("W", "float64[2, 3]", "requires grad"),
            ("matmul", "float64[4, 3]"),
            ("b", "float64[3]", "requires grad"),
            ("add", "float64[4, 3]"),
            ("h = tanh", "float64[4, 3]"),
            ("tensor", "float64[4, 3]", "no grad"),
            ("multiply", "float64[4, 3]"),
            ("loss = sum", "float64[]"),
        ]
    )
    # Edges run from each input to its consumer, inputs in order, operations in data-flow
    # order; each source is written before its consumer.
    assert [(title(nodes, s), title(nodes, d)) for s, d, _ in edges] == [
        ("constant", "matmul"),
        ("W", "matmul"),
        ("matmul", "add"),
        ("b", "add"),
        ("add", "h = tanh"),
        ("h = tanh", "multiply"),
        ("tensor", "multiply"),
        ("multiply", "loss = sum"),
    ]
    assert all(line_of[s] < line_of[d] for s, d, _ in edges)
    assert all(label is None for _, _, label in edges)  # no gradients asked for
    result = [k for k, v in nodes.items() if "peripheries=2" in v[1]]
    assert [title(nodes, k) for k in result] == ["loss = sum"]
    assert 'fillcolor="#cfe3f7"' in nodes["leaf0"][1]  # leaves that require grad stand out


@needs_graphviz
def test_a_value_used_twice_is_one_node_with_an_edge_per_use():
    x = cr.tensor(3.0, requires_grad=True)
    y = cr.tensor(-4.0, requires_grad=True)
    nodes, edges, _ = parse(cr.draw(staged(x, y), names={"x": x, "y": y}))
    ids = {title(nodes, k): k for k in nodes if k.startswith("leaf")}
    assert sorted(ids) == ["x", "y"]
    uses = {name: [title(nodes, d) for s, d, _ in edges if s == k] for name, k in ids.items()}
    assert sorted(uses["x"]) == ["add", "add", "negative"]  # num, x + y, sigmoid(x)
    assert sorted(uses["y"]) == ["add", "negative"]
    assert sum(k.startswith("op") for k in nodes) == 14


@needs_graphviz
def test_the_function_form_names_leaves_after_parameters():
    def f(w, x, *rest):
        return np.sum(w * x) + rest[0] * rest[1]

    nodes, _, _ = parse(cr.draw(f, np.ones(2), np.ones(2), 1.0, 2.0))
    leaves = sorted(v[0][0] for k, v in nodes.items() if k.startswith("leaf"))
    assert leaves == ["rest[0]", "rest[1]", "w", "x"]
    for fn in (Sigmoid, Sigmoid()):  # a cr.Function: the parameters of its forward
        nodes, edges, _ = parse(cr.draw(fn, np.array([0.5, 1.0])))
        assert [(title(nodes, s), title(nodes, d)) for s, d, _ in edges] == [("x", "Sigmoid")]
    # Non-float arguments pass through as given; names= labels closed-over Tensors.
    W = cr.tensor([1.0, 2.0], requires_grad=True)
    nodes, _, _ = parse(cr.draw(lambda u, n: np.sum(u * W) ** n, np.ones(2), 3, names={"W": W}))
    assert sorted(v[0][0] for k, v in nodes.items() if k.startswith("leaf")) == ["W", "u"]
    assert ["constant", "int64[]"] in [v[0] for v in nodes.values()]


@needs_graphviz
def test_gradient_norms_of_the_lecture_function_match_its_backprop():
    dot = cr.draw(staged, 3.0, -4.0, grads=True)
    nodes, edges, _ = parse(dot)
    by_hand = {"x": 2.059570, "y": 1.592233}  # the lecture's dx, dy at x=3, y=-4
    for s, _, label in edges:
        name = title(nodes, s)
        if name in by_hand:
            assert label == f"|g| {by_hand[name]:.3g}", (name, label)
        elif name == "constant":
            assert label is None
        else:
            assert label is not None and label.startswith("|g| "), (name, label)
    # The root multiplies num by invden: the gradient reaching num is invden, and back.
    num = 3.0 + 1 / (1 + np.exp(4.0))
    invden = 1.0 / (1 / (1 + np.exp(-3.0)) + 1.0)
    into_root = sorted(label for s, d, label in edges if "peripheries=2" in nodes[d][1])
    assert into_root == sorted([f"|g| {invden:.3g}", f"|g| {num:.3g}"])


@needs_graphviz
def test_a_saturated_sigmoid_shows_its_vanishing_gradient():
    def neuron(w, x):
        return 1.0 / (1.0 + np.exp(-(w @ x)))

    def norm_into_w(w, x):
        nodes, edges, _ = parse(cr.draw(neuron, w, x, grads=True))
        (label,) = [lab for s, _, lab in edges if title(nodes, s) == "w"]
        return float(label.removeprefix("|g| "))

    assert norm_into_w(np.array([2.0, -3.0]), np.array([-1.0, -2.0])) > 0.01
    assert norm_into_w(np.array([10.0, 10.0]), np.array([5.0, 5.0])) < 1e-40


@needs_graphviz
def test_drawing_gradients_leaves_every_grad_and_hook_alone():
    x = cr.tensor([0.5, -1.0], requires_grad=True)
    x.grad = before = np.array([7.0, 8.0])
    W = cr.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    W.register_hook(seen.append)
    dot = cr.draw(lambda u: np.sum(np.tanh(u) * W), x, grads=True)
    assert x.grad is before and np.array_equal(before, [7.0, 8.0])
    assert W.grad is None and seen == [] and x.grad_fn is None
    nodes, edges, _ = parse(dot)
    # W is not an argument: its edge has no norm (cr.vjp differentiates the arguments).
    assert [lab for s, _, lab in edges if title(nodes, s) == "tensor"] == [None]


@needs_graphviz
def test_a_released_graph_says_what_to_do_and_a_retained_one_draws():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    loss = np.sum(np.exp(x) * x)
    loss.backward(retain_graph=True)
    grad = x.grad.copy()
    nodes, _, _ = parse(cr.draw(loss))
    assert len(nodes) == 4 and np.array_equal(x.grad, grad)
    loss.backward()
    with pytest.raises(RuntimeError, match=r"released by backward\(\).*retain_graph=True"):
        cr.draw(loss)


@needs_graphviz
def test_a_leaf_alone_and_a_long_chain():
    W = cr.tensor(np.ones(3), requires_grad=True)
    nodes, edges, _ = parse(cr.draw(W, names={"W": W}))
    assert [v[0] for v in nodes.values()] == [["W", "float64[3]", "requires grad"]] and not edges
    y = W
    for _ in range(3000):  # deeper than Python's recursion limit
        y = y * 1.0
    nodes, edges, _ = parse(cr.draw(y))
    assert sum(k.startswith("op") for k in nodes) == 3000
    assert len(edges) == 2 * 3000


@needs_graphviz
@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda t: cr.draw(np.ones(3)), TypeError, "expected a Tensor or a function"),
        (lambda t: cr.draw(t, 1.0), TypeError, r"extra positional arguments.*cr.draw\(f, \*args\)"),
        (lambda t: cr.draw(t, names=["t"]), TypeError, r"names must be a dict.*names=\{"),
        (lambda t: cr.draw(t, names={"t": np.ones(2)}), TypeError, r"names\['t'\] is a ndarray"),
        (
            lambda t: cr.draw(cr.tensor([1.0]), grads=True),
            ValueError,
            r"does not require grad.*requires_grad=True",
        ),
        (lambda t: cr.draw(lambda x: (x, x), np.ones(2)), TypeError, "a tuple of 2 outputs"),
        (lambda t: cr.draw(lambda x: np.ones(2), np.ones(2)), TypeError, "not a Tensor"),
    ],
)
def test_bad_input_gets_a_clear_error(call, error, match):
    t = np.exp(cr.tensor([1.0, 2.0], requires_grad=True))
    with pytest.raises(error, match=match):
        call(t)


def test_without_graphviz_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz now fails
    x = cr.tensor([1.0], requires_grad=True)
    with pytest.raises(ImportError, match=r'pip install "chainrule\[viz\]"'):
        cr.draw(np.exp(x))


def _svg_counts(root):
    assert root.tag == f"{SVG}svg"
    groups = [g.get("class") for g in root.iter(f"{SVG}g")]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    return groups.count("node"), groups.count("edge"), texts


@needs_graphviz
@needs_dot
def test_renders_a_valid_svg_file(tmp_path):
    W = cr.tensor(np.ones((2, 2)), requires_grad=True)
    dot = cr.draw(np.sum(np.tanh(W @ W)), names={"W": W})
    path = dot.render(tmp_path / "graph", format="svg")
    n_nodes, n_edges, texts = _svg_counts(ET.parse(path).getroot())
    nodes, edges, _ = parse(dot)
    assert (n_nodes, n_edges) == (len(nodes), len(edges)) == (4, 4)
    assert "W" in texts and "matmul" in texts


@needs_graphviz
@needs_dot
def test_shows_itself_inline_in_jupyter():
    dot = cr.draw(staged, 3.0, -4.0, grads=True)
    bundle = dot._repr_mimebundle_()  # what Jupyter calls to display it
    n_nodes, n_edges, texts = _svg_counts(ET.fromstring(bundle["image/svg+xml"]))
    nodes, edges, _ = parse(dot)
    assert (n_nodes, n_edges) == (len(nodes), len(edges))
    assert "|g| 2.06" in texts


@needs_graphviz
@pytest.mark.parametrize("when", ["before backward", "after backward(retain_graph=True)"])
def test_gradient_norms_of_a_recorded_tensor_match_the_lecture(when):
    x = cr.tensor(3.0, requires_grad=True)
    y = cr.tensor(-4.0, requires_grad=True)
    seen = []
    x.register_hook(seen.append)
    f = staged(x, y)
    if when != "before backward":
        f.backward(retain_graph=True)
    grad_x = x.grad
    nodes, edges, _ = parse(cr.draw(f, names={"x": x, "y": y}, grads=True))
    by_hand = {"x": 2.0595697956, "y": 1.5922327515}  # the lecture's dx, dy at x=3, y=-4
    labels = {name: set() for name in by_hand}
    for s, _, label in edges:
        name = title(nodes, s)
        if name in by_hand:
            labels[name].add(label)
        elif name == "constant":
            assert label is None
        else:
            assert label is not None and label.startswith("|g| "), (name, label)
    assert labels == {name: {f"|g| {v:.3g}"} for name, v in by_hand.items()}
    # Drawing ran no hook and changed no .grad; the graph stays for backward.
    assert x.grad is grad_x and len(seen) == (0 if grad_x is None else 1)
    f.backward()
    assert len(seen) == (1 if grad_x is None else 2)


@needs_graphviz
def test_a_two_output_function_draws_with_its_gradients():
    class SinCos(cr.Function):
        def forward(self, x):
            self.save_for_backward(x)
            return np.sin(x), np.cos(x)

        def backward(self, ds, dc):
            (x,) = self.saved_tensors
            return ds * np.cos(x) - dc * np.sin(x)

    a = cr.tensor([0.5, 1.0], requires_grad=True)
    s, c = SinCos()(a)
    loss = np.sum(2.0 * s + c)
    nodes, edges, _ = parse(cr.draw(loss, grads=True))
    titles = sorted(title(nodes, k) for k in nodes if k.startswith("op"))
    assert titles == ["SinCos", "add", "multiply", "select", "select", "sum"]
    (fn_id,) = [k for k in nodes if title(nodes, k) == "SinCos"]
    assert nodes[fn_id][0][1] == "2 outputs"
    # The edge into each selector carries that output's own gradient: 2 for s, 1 for c.
    out_of_fn = sorted(label for src, _, label in edges if src == fn_id)
    assert out_of_fn == sorted([f"|g| {np.sqrt(8.0):.3g}", f"|g| {np.sqrt(2.0):.3g}"])
    into_fn = [label for src, dst, label in edges if dst == fn_id]
    exact = 2.0 * np.cos([0.5, 1.0]) - np.sin([0.5, 1.0])
    assert into_fn == [f"|g| {np.linalg.norm(exact):.3g}"]
