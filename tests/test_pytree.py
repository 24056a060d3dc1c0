"""Pytrees: flatten/unflatten round trips, registration, tree_map, and cr.flatten."""

from __future__ import annotations

import dataclasses
from collections import namedtuple

import numpy as np
import pytest

import chainrule as cr
from chainrule._pytree import PyTreeDef


class Pair:
    """A user type registered with explicit flatten/unflatten functions."""

    def __init__(self, first, second, label="pair"):
        self.first, self.second, self.label = first, second, label


cr.register_pytree(
    Pair,
    lambda p: ((p.first, p.second), p.label),
    lambda label, children: Pair(*children, label=label),
)


@cr.register_pytree
@dataclasses.dataclass
class Layer:
    w: np.ndarray
    b: np.ndarray


Point = namedtuple("Point", ["x", "y"])


def test_builtin_containers_round_trip():
    tree = {"b": [1.0, (2.0, None)], "a": np.arange(3.0), "c": Point(4.0, 5.0)}
    leaves, treedef = cr.tree_flatten(tree)
    # dicts: sorted keys; None is a node without leaves
    np.testing.assert_array_equal(leaves[0], np.arange(3.0))
    assert leaves[1:] == [1.0, 2.0, 4.0, 5.0]
    assert treedef.num_leaves == 5
    back = cr.tree_unflatten(treedef, leaves)
    assert list(back) == ["a", "b", "c"]
    assert back["b"] == [1.0, (2.0, None)]
    assert isinstance(back["c"], Point) and back["c"].y == 5.0


def test_dict_key_order_does_not_change_the_structure():
    _, d1 = cr.tree_flatten({"x": 1.0, "y": 2.0})
    _, d2 = cr.tree_flatten({"y": 2.0, "x": 1.0})
    assert d1 == d2 and hash(d1) == hash(d2)
    assert cr.tree_leaves({"y": 2.0, "x": 1.0}) == [1.0, 2.0]


def test_unsortable_keys_keep_insertion_order():
    assert cr.tree_leaves({1: 1.0, "a": 2.0}) == [1.0, 2.0]


def test_structures_differ_by_container_and_keys():
    defs = [cr.tree_flatten(t)[1] for t in ([1.0], (1.0,), {"a": 1.0}, {"b": 1.0}, Point(1.0, 2.0))]
    assert len(set(defs)) == 5
    assert "PyTreeDef" in repr(defs[0])


def test_registered_class_with_aux_data():
    tree = Pair(np.ones(2), {"k": 3.0}, label="mine")
    leaves, treedef = cr.tree_flatten(tree)
    assert len(leaves) == 2
    doubled = cr.tree_map(lambda x: x * 2, tree)
    assert isinstance(doubled, Pair) and doubled.label == "mine"
    np.testing.assert_array_equal(doubled.first, [2.0, 2.0])
    assert doubled.second == {"k": 6.0}
    _, other = cr.tree_flatten(Pair(np.ones(2), {"k": 3.0}, label="other"))
    assert other != treedef  # aux data is part of the structure


def test_dataclass_registered_by_one_line():
    layer = Layer(np.array([1.0, 2.0]), np.array([3.0]))
    v, unflatten = cr.flatten(layer)
    np.testing.assert_array_equal(v, [1.0, 2.0, 3.0])
    back = unflatten(v + 1)
    assert isinstance(back, Layer)
    np.testing.assert_array_equal(back.b, [4.0])


def test_register_pytree_rejects_bad_input():
    class Plain:
        pass

    with pytest.raises(TypeError, match="only a dataclass can omit them"):
        cr.register_pytree(Plain)
    with pytest.raises(TypeError, match="must both be functions"):
        cr.register_pytree(Plain, lambda p: ((), None), None)
    with pytest.raises(ValueError, match="already a pytree node"):
        cr.register_pytree(dict, lambda d: ((), None), lambda a, c: {})
    with pytest.raises(TypeError, match="must be a class"):
        cr.register_pytree("Plain", lambda p: ((), None), lambda a, c: None)


def test_unregistered_object_leaf_is_a_clear_error():
    class Opaque:
        pass

    with pytest.raises(TypeError, match=r"leaf tree\['w'\]\[1\] is a Opaque.*register_pytree"):
        cr.tree_flatten({"w": [1.0, Opaque()]})
    with pytest.raises(TypeError, match="is a str"):
        cr.flatten(["text"])


def test_tree_map_several_trees_and_mismatch():
    out = cr.tree_map(lambda a, b: a + b, [1.0, {"x": 2.0}], [10.0, {"x": 20.0}])
    assert out == [11.0, {"x": 22.0}]
    with pytest.raises(ValueError, match="tree 1 of rest has structure"):
        cr.tree_map(lambda a, b: a + b, [1.0, 2.0], (1.0, 2.0))
    with pytest.raises(TypeError, match="f must be a function"):
        cr.tree_map(3, [1.0])


def test_tree_unflatten_checks_its_arguments():
    _, treedef = cr.tree_flatten([1.0, 2.0])
    with pytest.raises(ValueError, match="has 2 leaves, got 3"):
        cr.tree_unflatten(treedef, [1, 2, 3])
    with pytest.raises(TypeError, match="treedef must come from tree_flatten"):
        cr.tree_unflatten([1.0], [1.0])
    assert isinstance(treedef, PyTreeDef)


def test_flatten_keeps_shapes_and_dtypes():
    tree = {"a": np.ones((2, 3), np.float32), "n": np.array([1, 2]), "s": 2.5, "z": None}
    v, unflatten = cr.flatten(tree)
    assert v.shape == (9,) and v.dtype == np.float64  # common float dtype
    back = unflatten(v)
    assert back["a"].shape == (2, 3) and back["a"].dtype == np.float32
    assert back["n"].dtype == tree["n"].dtype and back["n"].tolist() == [1, 2]
    assert back["s"].shape == () and float(back["s"]) == 2.5
    assert back["z"] is None


def test_flatten_float32_only_stays_float32():
    v, _ = cr.flatten([np.ones(2, np.float32), np.zeros(1, np.float32)])
    assert v.dtype == np.float32


def test_flatten_empty_tree():
    v, unflatten = cr.flatten({"nothing": None, "empty": []})
    assert v.shape == (0,) and v.dtype == np.float64
    assert unflatten(v) == {"empty": [], "nothing": None}


def test_unflatten_rejects_a_wrong_vector():
    _, unflatten = cr.flatten([np.ones(3)])
    with pytest.raises(ValueError, match=r"expected a vector of shape \(3,\).*got shape \(2,\)"):
        unflatten(np.ones(2))


def test_flatten_refuses_complex_leaves():
    with pytest.raises(TypeError, match="only real numbers"):
        cr.flatten([np.ones(2, complex)])


def test_grad_through_unflatten_matches_per_leaf_gradients(rng):
    params = {"W": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    x = rng.standard_normal((4, 3))

    def loss(p):
        return np.sum(np.tanh(x @ p["W"] + p["b"]) ** 2)

    v, unflatten = cr.flatten(params)
    g_flat = cr.grad(lambda v: loss(unflatten(v)))(v)
    g_tree = cr.grad(loss)(params)
    g_back = unflatten(g_flat)
    np.testing.assert_allclose(g_back["W"], g_tree["W"], rtol=1e-12)
    np.testing.assert_allclose(g_back["b"], g_tree["b"], rtol=1e-12)
    # second order through unflatten too
    h = cr.hessian(lambda v: loss(unflatten(v)))(v)
    np.testing.assert_allclose(h, h.T, atol=1e-10)
    assert h.shape == (8, 8)


def test_flatten_of_tensors_records():
    w = cr.tensor(np.array([[1.0, 2.0]]), requires_grad=True)
    b = cr.tensor(np.array([3.0]), requires_grad=True)
    v, unflatten = cr.flatten([w, b])
    assert isinstance(v, cr.Tensor) and v.requires_grad
    np.sum(v * np.array([1.0, 2.0, 3.0])).backward()
    np.testing.assert_array_equal(w.grad, [[1.0, 2.0]])
    np.testing.assert_array_equal(b.grad, [3.0])
    rebuilt = unflatten(v)
    assert isinstance(rebuilt[0], cr.Tensor) and rebuilt[0].shape == (1, 2)
