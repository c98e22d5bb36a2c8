"""The gradient rule both engines share, tried the way users push a library: repeated ``backward()``,
shared subgraphs, nodes a pass never reaches, threads, ``no_grad`` re-entered, data changed between
forward and backward, copies and pickles of deep graphs. PyTorch (float64) is the oracle wherever it
has an answer.

The rule (``chainrule/autodiff.py``): a leaf accumulates its ``grad`` across passes; an interior
node's ``grad`` is this pass's.
"""

from __future__ import annotations

import copy
import math
import pickle
import sys
import threading
import time

import numpy as np
import pytest
from oracle import assert_close

from chainrule import Tensor, Value, is_grad_enabled, no_grad
from chainrule.engine import weighted_sum
from chainrule.nn import Linear, ReLU, Sequential


def leaves(torch, *numbers):
    return [torch.tensor(x, requires_grad=True) for x in numbers]


# -- repeated backward(): leaves accumulate, interior nodes hold this pass ----------------------------
def test_second_backward_through_a_shared_node_matches_torch_on_values(torch):
    # The repro: micrograd (and chainrule before) gave a.grad == 42.
    a, b = Value(2.0), Value(3.0)
    h = a * b
    (h + 1).backward()
    (h * h).backward()
    ta, tb = leaves(torch, 2.0, 3.0)
    th = ta * tb
    (th + 1).backward(retain_graph=True)
    (th * th).backward()
    assert (a.grad, b.grad) == (ta.grad.item(), tb.grad.item()) == (39.0, 26.0)
    assert h.grad == 2 * h.data  # the latest pass's d(h*h)/dh only


def test_second_backward_through_a_shared_node_matches_torch_on_tensors(torch):
    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    w = np.array([[1.5, 0.0], [-0.5, 2.0]])
    a, b = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    h = (a @ b).tanh()
    (h + 1).sum().backward()
    (h * h).mean().backward()
    ta, tb = leaves(torch, x, w)
    th = (ta @ tb).tanh()
    (th + 1).sum().backward(retain_graph=True)
    (th * th).mean().backward()
    assert_close(a.grad, ta.grad, rtol=1e-12, what="a.grad")
    assert_close(b.grad, tb.grad, rtol=1e-12, what="b.grad")
    assert_close(h.grad, 2 * h.data / h.size, rtol=1e-12, what="interior grad: this pass's")


def test_the_notes_manual_stepping_still_works():
    # The notes set o.grad = 1.0 and call each node's _backward by hand, in reverse order.
    x1, w1, b = Value(2.0), Value(-3.0), Value(6.8813735870195432)
    n = x1 * w1 + b
    o = n.tanh()
    o.grad = 1.0
    o._backward()
    n._backward()
    assert round(n.grad, 4) == 0.5
    n._prev[0]._backward()  # x1 * w1
    assert (round(x1.grad, 4), round(w1.grad, 4), round(b.grad, 4)) == (-1.5, 1.0, 0.5)


def test_a_node_the_pass_never_reaches_pushes_nothing_stale():
    # c gets a gradient in the first pass. In the second, a custom operation that skips c is the root:
    # c is in the graph but receives nothing, so it must push nothing into a and b.
    a, b = Value(2.0), Value(3.0)
    c = a * b
    (c * 1.0).backward()
    assert (a.grad, b.grad) == (3.0, 2.0)

    d = Value(c.data + a.data, (c, a), "skip-c")

    def _backward():
        a.grad += d.grad  # pretends c is a constant

    d._backward = _backward
    d.backward()
    assert (a.grad, b.grad) == (4.0, 2.0)  # first pass + d's push into a; b untouched


def test_a_tensor_node_the_pass_never_reaches_pushes_nothing_stale():
    a = Tensor([1.0, 2.0], requires_grad=True)
    c = a * 3.0
    c.sum().backward()
    d = Tensor(c.data * 0.0, _children=(c,), _op="stop")
    d._backward = lambda: None  # a rule that passes nothing on
    d.sum().backward()
    assert_close(a.grad, [3.0, 3.0], rtol=0.0, what="a.grad after a pass that reached only d")


def test_requires_grad_can_change_only_on_a_leaf(torch):
    w = Tensor([1.0, 2.0], requires_grad=True)
    h = w * 2.0
    with pytest.raises(RuntimeError, match=r"requires_grad: can only be changed on a leaf .*'\*'.*detach"):
        h.requires_grad = False
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf"):
        (torch.ones(2, requires_grad=True) * 2).requires_grad_(False)
    w.requires_grad = False
    assert not (w * 2.0).requires_grad
    with pytest.raises(TypeError, match=r"requires_grad: expected True or False, got 'yes'"):
        w.requires_grad = "yes"


def test_backward_with_a_gradient_on_a_leaf_adds_it(torch):
    w = Tensor([1.0, -2.0], requires_grad=True)
    w.backward(np.array([0.5, 3.0]))
    w.backward(np.array([0.5, 3.0]))
    (tw,) = leaves(torch, [1.0, -2.0])
    tw.backward(torch.tensor([0.5, 3.0]))
    tw.backward(torch.tensor([0.5, 3.0]))
    assert_close(w.grad, tw.grad, rtol=0.0, what="leaf grad")
    v = Value(1.0)
    v.backward(2.0)
    v.backward(np.float32(2.0))
    assert v.grad == 4.0 and type(v.grad) is float
    with pytest.raises(TypeError, match=r"backward \(grad\): expected a real number"):
        v.backward("1")


def test_interior_grad_and_leaf_grad_after_two_different_roots(torch):
    x = Tensor([0.3, -0.7, 1.1], requires_grad=True)
    s = x.sigmoid()
    loss1 = (s * x).sum()
    loss2 = s.max()
    loss1.backward()
    loss2.backward()
    (tx,) = leaves(torch, [0.3, -0.7, 1.1])
    ts = tx.sigmoid()
    (ts * tx).sum().backward(retain_graph=True)
    ts.max().backward()
    assert_close(x.grad, tx.grad, rtol=1e-12, what="x.grad")


# -- threads -------------------------------------------------------------------------------------------
def run_threads(target, count: int) -> None:
    errors = []

    def guarded(i):
        try:
            target(i)
        except BaseException as error:  # report it in the main thread
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def test_threads_backpropagating_their_own_graphs_get_exact_gradients():
    # The repro: with one process-wide pass counter, about one pass in twelve came out wrong.
    # Each thread's x * 0.5 + x * 0.5 chain is x itself, so every pass adds exactly 1 to each entry.
    passes, depth = 20, 200
    wrong = []

    def work(i):
        w = Tensor(np.full(3, float(i + 1)), requires_grad=True)
        v = Value(float(i + 1))
        for k in range(passes):
            x, y = w, v
            for _ in range(depth):
                x = x * 0.5 + x * 0.5
                y = y * 0.5 + y * 0.5
            x.sum().backward()
            y.backward()
            if not (np.all(w.grad == k + 1) and v.grad == k + 1):
                wrong.append((i, k, w.grad.tolist(), v.grad))

    run_threads(work, 4)
    assert wrong == []


def test_threads_sharing_a_parameter_lose_no_contribution():
    w = Tensor([1.0, 2.0], requires_grad=True)
    v = Value(3.0)
    passes = 150

    def work(i):
        for _ in range(passes):
            ((w * w).sum() * 0.5).backward()  # d/dw = w
            (v * v * 0.5).backward()  # d/dv = v

    run_threads(work, 4)
    assert_close(w.grad, [4 * passes * 1.0, 4 * passes * 2.0], rtol=0.0, what="shared w.grad")
    assert v.grad == 4 * passes * 3.0


def test_threaded_stress_for_two_seconds(torch):
    # Several threads build, back-propagate and check small MLP graphs against one torch answer, mixing
    # no_grad blocks in, for a bounded time.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 3))
    net = Sequential(Linear(3, 5, rng=1), ReLU(), Linear(5, 1, rng=2))
    tW1, tb1, tW2, tb2 = (torch.tensor(p.data.copy(), requires_grad=True) for p in net.parameters())
    (torch.relu(torch.tensor(X) @ tW1 + tb1) @ tW2 + tb2).tanh().sum().backward()
    expected = [t.grad.numpy() for t in (tW1, tb1, tW2, tb2)]
    params = net.parameters()
    deadline = time.monotonic() + 2.0
    counts = []

    def work(i):
        mine = copy.deepcopy(net)  # each thread its own parameters, the same numbers
        n = 0
        while time.monotonic() < deadline:
            with no_grad():
                assert not mine(Tensor(X)).requires_grad
            assert is_grad_enabled()
            mine.zero_grad()
            mine(Tensor(X)).tanh().sum().backward()
            for p, e in zip(mine.parameters(), expected):
                assert_close(p.grad, e, rtol=1e-12, what=f"thread {i}, pass {n}")
            n += 1
        counts.append(n)

    run_threads(work, 4)
    assert len(counts) == 4 and min(counts) >= 1
    assert all(p.grad is None for p in params)  # the original was never touched


def test_no_grad_in_one_thread_leaves_the_others_recording():
    inside = threading.Event()
    release = threading.Event()

    def hold_no_grad():
        with no_grad():
            inside.set()
            release.wait(5)

    t = threading.Thread(target=hold_no_grad)
    t.start()
    try:
        assert inside.wait(5)
        w = Tensor([1.0], requires_grad=True)
        assert is_grad_enabled() and (w * 2.0).requires_grad
    finally:
        release.set()
        t.join()


# -- no_grad: nested, re-entered, recursive, bare decorator --------------------------------------------
def test_no_grad_reentered_restores_recording():
    w = Tensor([1.0], requires_grad=True)
    guard = no_grad()
    with guard:
        with guard:
            assert not (w * 2.0).requires_grad
        assert not is_grad_enabled()
    assert is_grad_enabled() and (w * 2.0).requires_grad


def test_no_grad_on_a_recursive_function_with_and_without_parentheses():
    w = Tensor([1.0], requires_grad=True)

    @no_grad()
    def depth_first(n):
        return w * 1.0 if n == 0 else depth_first(n - 1)

    @no_grad
    def bare(n):
        return (w * 1.0, is_grad_enabled()) if n == 0 else bare(n - 1)

    assert not depth_first(5).requires_grad
    out, enabled = bare(3)
    assert not out.requires_grad and not enabled
    assert bare.__name__ == "bare"
    assert is_grad_enabled() and (w * 2.0).requires_grad


def test_no_grad_is_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            raise ZeroDivisionError("inside no_grad")
    assert is_grad_enabled()


# -- data changed between forward and backward --------------------------------------------------------
def tensor_graph(x, w):
    """Ops that keep their operands (mul, matmul) and ops that keep their results (exp, tanh)."""
    return ((x @ w).tanh() * x.exp().sum()).sum()


@pytest.mark.parametrize("change", ["+= 1", "[0, 0] = 5", "*= 2", "= new array"])
def test_changing_data_between_forward_and_backward_leaves_the_graph_as_recorded(torch, change):
    xs = np.array([[0.5, -1.0], [0.2, 0.3]])
    ws = np.array([[1.0, 2.0], [-1.0, 0.5]])
    x, w = Tensor(xs, requires_grad=True), Tensor(ws, requires_grad=True)
    loss = tensor_graph(x, w)
    if change == "+= 1":
        x.data += 1
    elif change == "[0, 0] = 5":
        x.data[0, 0] = 5.0
    elif change == "*= 2":
        w.data *= 2
    else:
        x.data = np.zeros((2, 2))
    loss.backward()
    tx, tw = leaves(torch, xs, ws)
    tensor_graph(tx, tw).backward()
    assert_close(x.grad, tx.grad, rtol=1e-12, what="x.grad: the forward's numbers")
    assert_close(w.grad, tw.grad, rtol=1e-12, what="w.grad: the forward's numbers")
    # ... and later operations see the change
    changed = {"+= 1": xs + 1, "[0, 0] = 5": np.array([[5.0, -1.0], [0.2, 0.3]]), "= new array": np.zeros((2, 2))}
    assert_close((x * 1.0).data, changed.get(change, xs), rtol=0.0, what="x after the change")


def test_changing_arrays_passed_as_operands_or_indices_changes_nothing_recorded():
    t = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    mask = np.array([1.0, 0.0, 2.0])
    index = np.array([0, 0, 2])
    picked = t[index]
    masked = t * mask
    mask[:] = 100.0
    index[:] = 1
    (picked.sum() + masked.sum()).backward()
    assert_close(t.grad, [1.0 + 2.0, 0.0, 2.0 + 1.0], rtol=0.0, what="t.grad")


def test_changing_a_detached_copy_or_numpy_view_changes_nothing_recorded():
    t = Tensor([1.0, 2.0], requires_grad=True)
    y = t.exp()
    t.detach().data[0] = 50.0
    t.numpy()[1] = 60.0
    y.sum().backward()
    assert_close(t.grad, np.exp([1.0, 2.0]), rtol=1e-15, what="t.grad")


def test_changing_a_value_between_forward_and_backward_uses_the_forward_numbers(torch):
    x, w = Value(0.5), Value(-1.5)
    out = (x * w).tanh() * x.exp()
    x.data = 10.0
    out.backward()
    tx, tw = leaves(torch, 0.5, -1.5)
    ((tx * tw).tanh() * tx.exp()).backward()
    assert (x.grad, w.grad) == pytest.approx((tx.grad.item(), tw.grad.item()), rel=1e-14)


# -- copies and pickles -------------------------------------------------------------------------------
def deep_chain(depth: int):
    x = Value(0.5, label="x")
    y = x
    for _ in range(depth):
        y = (y * 0.999).tanh() + x  # x shared by every level
    return x, y


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_a_value_graph_deeper_than_the_recursion_limit_copies_and_pickles(how):
    depth = sys.getrecursionlimit() * 3
    x, y = deep_chain(depth)
    copied = pickle.loads(pickle.dumps(y)) if how == "pickle" else copy.deepcopy(y)
    y.backward()
    copied.backward()
    assert copied.data == y.data
    copied_x = copied
    while copied_x._prev:
        copied_x = copied_x._prev[-1]
    assert copied_x.label == "x" and copied_x is not x
    assert copied_x.grad == x.grad and x.grad != 0.0  # the same gradient, in the copy's own leaf


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_a_deep_node_pickled_with_its_result_pickles_again_on_its_own(how):
    # Pickling [mid, y] (mid inside y's graph) once left mid's nodes marked as "arriving in order" for
    # good, so a later pickle of mid alone took them one nested call per level: RecursionError.
    depth = sys.getrecursionlimit() * 3
    x, mid = deep_chain(depth)
    y = mid
    for _ in range(depth):
        y = (y * 0.999).tanh() + x
    both = [mid, y]
    mid2, y2 = pickle.loads(pickle.dumps(both)) if how == "pickle" else copy.deepcopy(both)
    alone = pickle.loads(pickle.dumps(mid)) if how == "pickle" else copy.deepcopy(mid)
    mid.backward()
    for copied in (alone, mid2):
        copied.backward()
        copied_x = copied
        while copied_x._prev:
            copied_x = copied_x._prev[-1]
        assert copied.data == mid.data and copied_x.grad == x.grad and x.grad != 0.0
    assert y2.data == y.data


def test_a_shallow_copy_leaves_a_deep_graph_picklable():
    # copy.copy went through __reduce_ex__, which marked the whole graph as arriving in order; nothing
    # was pickled to unmark it, so a later pickle of any node in it hit RecursionError.
    depth = sys.getrecursionlimit() * 3
    x, mid = deep_chain(depth)
    y = (mid * 0.999).tanh() + x
    shallow = copy.copy(y)
    assert shallow is not y and shallow._prev == y._prev and shallow.data == y.data and shallow._op == y._op
    again = pickle.loads(pickle.dumps(mid))
    mid.backward()
    again.backward()
    copied_x = again
    while copied_x._prev:
        copied_x = copied_x._prev[-1]
    assert again.data == mid.data and copied_x.grad == x.grad and x.grad != 0.0


def test_pickling_a_model_and_its_loss_together_keeps_one_graph():
    w = Value(1.5, label="w")
    loss = (w * w + w).tanh()
    w2, loss2 = pickle.loads(pickle.dumps((w, loss)))
    loss2.backward()
    assert w2.grad == pytest.approx((1 - math.tanh(3.75) ** 2) * 4.0, rel=1e-15)
    assert w.grad == 0.0


def test_a_custom_backward_cannot_be_pickled_and_says_why():
    a = Value(2.0)
    out = Value(a.data**3, (a,), "cube")
    out._backward = lambda: None
    with pytest.raises(TypeError, match=r"op 'cube'.*custom _backward closure"):
        pickle.dumps(out)


def test_a_pickle_refused_for_a_custom_backward_deep_inside_leaves_the_rest_picklable():
    # The refusal came halfway through the graph, after every node had been marked as arriving in order:
    # the marks stayed, and a later pickle of a deep node hit RecursionError.
    depth = sys.getrecursionlimit() * 3
    x, mid = deep_chain(depth)
    a = Value(2.0)
    cube = Value(a.data**3, (a,), "cube")
    cube._backward = lambda: None
    with pytest.raises(TypeError, match=r"op 'cube'.*custom _backward closure"):
        pickle.dumps(cube + mid)  # cube comes first, before any node of mid's graph is pickled
    again = pickle.loads(pickle.dumps(mid))
    assert again.data == mid.data


def test_tensors_pickle_as_leaves_as_in_torch(torch):
    w = Tensor([1.0, 2.0], requires_grad=True)
    y = w * 2.0
    y.label = "y"
    back = pickle.loads(pickle.dumps(y))
    ty = pickle.loads(pickle.dumps(torch.tensor([1.0, 2.0], requires_grad=True) * 2))
    assert back.requires_grad == ty.requires_grad and back._prev == () and ty.is_leaf
    assert_close(back.data, ty, rtol=0.0) and back.label == "y"
    with pytest.raises(RuntimeError, match=r"deepcopy: .*result of '\*'.*t.detach\(\)"):
        copy.deepcopy(y)
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(torch.tensor([1.0], requires_grad=True) * 2)


def test_a_deep_copied_model_is_independent():
    net = Sequential(Linear(2, 3, rng=0), ReLU(), Linear(3, 1, rng=1))
    twin = copy.deepcopy(net)
    assert all(p is not q and np.array_equal(p.data, q.data) for p, q in zip(net.parameters(), twin.parameters()))
    twin(Tensor([[1.0, -1.0]])).sum().backward()
    assert all(p.grad is None for p in net.parameters())
    assert all(q.grad is not None for q in twin.parameters())


# -- NaN through relu ---------------------------------------------------------------------------------
def test_relu_of_nan_is_nan_with_torch_gradient(torch):
    values = [float("nan"), 1.0, -1.0, 0.0]
    t = Tensor(values, requires_grad=True)
    t.relu().sum().backward()
    (tt,) = leaves(torch, values)
    torch.relu(tt).sum().backward()
    assert_close(t.relu().data, torch.relu(tt), rtol=0.0, what="relu")
    assert_close(t.grad, tt.grad, rtol=0.0, what="relu gradient")
    for x, expected_grad in zip(values, tt.grad.tolist()):
        v = Value(x)
        out = v.relu()
        out.backward()
        assert (math.isnan(out.data) if math.isnan(x) else out.data == max(x, 0.0)) and v.grad == expected_grad
    w, b = Value(1.0), Value(0.0)
    fused = weighted_sum([w], [float("nan")], b, activation="relu")
    fused.backward()
    assert math.isnan(fused.data) and b.grad == 1.0


# -- loud shapes and clear errors ---------------------------------------------------------------------
def test_a_custom_backward_giving_a_wrong_shape_is_an_error_not_a_sum():
    a = Tensor(np.ones((3, 2)), requires_grad=True)
    out = Tensor(a.data.T.copy(), _children=(a,), _op="bad-transpose")
    out._backward = lambda: a._accumulate(out.grad)  # (2, 3) into (3, 2): forgot to transpose back
    with pytest.raises(ValueError, match=r"gradient of shape \(2, 3\) cannot belong to a tensor of shape \(3, 2\)"):
        out.sum().backward()


def test_bad_inputs_name_the_operation():
    with pytest.raises(OverflowError, match=r"Value: 1000.*\(401 digits\) is too large for a float"):
        Value(10**400)
    t = Tensor([[1.0, 2.0]])
    with pytest.raises(TypeError, match=r"add: expected real numbers \(a number, an array or a Tensor\), got None"):
        t + None
    with pytest.raises(TypeError, match=r"sum: axis must be an int or a tuple of ints, got 1.5"):
        t.sum(axis=1.5)
    with pytest.raises(TypeError, match=r"Tensor: _children must be Tensors, got Value"):
        Tensor(1.0, _children=(Value(1.0),))


def test_values_mixed_with_other_things_name_the_operation():
    with pytest.raises(TypeError, match=r"add: cannot combine a Value with NoneType None"):
        Value(1.0) + None
    with pytest.raises(TypeError, match=r"sub: cannot combine a Value with str 'a'"):
        "a" - Value(1.0)
    with pytest.raises(TypeError, match=r"mul: cannot combine a Value with Tensor .*two different engines"):
        Value(1.0) * Tensor([1.0])
    with pytest.raises(TypeError, match=r"weighted_sum: the weights and the bias must be Values"):
        weighted_sum([1.0], [1.0], Value(1.0))
    with pytest.raises(TypeError, match=r"sum_of_squares: expected Values, got float 1.0"):
        from chainrule.engine import sum_of_squares

        sum_of_squares([1.0])
    with pytest.raises(TypeError, match=r"Tensor: requires_grad must be True or False, got 'yes'"):
        Tensor(1.0, requires_grad="yes")
    # NumPy scalars are numbers: they work, and the result stays a Python float
    out = np.float32(2.0) * Value(1.5) + np.int64(1)
    assert out.data == 4.0 and type(out.data) is float


def test_a_huge_number_in_a_float32_tensor_is_inf_without_a_warning(torch, recwarn):
    t = Tensor([1.0], dtype=np.float32) * 1e300
    assert t.dtype == np.float32 and np.isinf(t.data[0])
    assert torch.isinf(torch.ones(1, dtype=torch.float32) * 1e300).all()
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_the_fused_hinge_passes_a_nan_scores_gradient_like_the_small_nodes_and_torch(torch):
    from chainrule.losses import hinge

    scores = np.array([[float("nan")], [0.5], [2.0]])
    labels = np.array([[1.0], [-1.0], [1.0]])
    fused = Tensor(scores, requires_grad=True)
    hinge(fused, labels).backward()
    small = Tensor(scores, requires_grad=True)
    (1 - Tensor(labels) * small).relu().mean().backward()
    ts = torch.tensor(scores, requires_grad=True)
    torch.relu(1 - torch.tensor(labels) * ts).mean().backward()
    values = [Value(float(s)) for s in scores.ravel()]
    hinge(values, labels.ravel().tolist()).backward()
    assert_close(fused.grad, ts.grad, rtol=0.0, what="fused hinge")
    assert_close(small.grad, ts.grad, rtol=0.0, what="small nodes")
    assert_close([v.grad for v in values], ts.grad.ravel(), rtol=1e-15, what="scalar hinge")


def test_views_detached_tensors_and_numpy_arrays_copy_before_a_write():
    # a constant viewed by an operation, its base written afterwards
    c = Tensor([1.0, 2.0, 3.0, 4.0])
    w = Tensor(np.ones(4), requires_grad=True)
    y = (w * c.reshape(4)).sum()
    c.data[:] = 5.0
    y.backward()
    assert_close(w.grad, [1.0, 2.0, 3.0, 4.0], rtol=0.0, what="w.grad after writing the viewed constant")
    # a parameter detached, then stepped by an optimizer while the graph lives
    from chainrule.optim import SGD

    x = Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    w = Tensor(np.ones(4), requires_grad=True)
    y = (w * x.detach()).sum()
    x.grad = np.ones(4)
    SGD([x], lr=1.0).step()
    y.backward()
    assert_close(w.grad, [1.0, 2.0, 3.0, 4.0], rtol=0.0, what="w.grad after stepping the detached tensor")
    # np.asarray of a tensor a graph has saved
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    np.asarray(x)[:] = 5.0
    y.backward()
    assert_close(x.grad, [2.0, 4.0], rtol=0.0, what="x.grad after writing np.asarray(x)")
