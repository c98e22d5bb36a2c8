"""What the optimizers refuse, and what they accept, so that no step is ever silently wrong.

Refused, with an error naming the optimizer, the offending value and what to pass: a parameter listed
twice (it would be stepped twice), a single parameter instead of a list, things that are not Values or
Tensors, results of operations (not leaves), and hyperparameters that are NaN, infinite, out of range
or not numbers. Accepted: hyperparameters of any real type (NumPy scalars, Fraction), turned into
Python floats once, and generators of parameters; these train exactly as ``torch.optim`` does.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from oracle import assert_close

from chainrule import Tensor, Value
from chainrule.nn import Linear
from chainrule.optim import SGD, Adam, AdamW

OPTIMIZERS = [SGD, Adam, AdamW]


def make(optimizer, params, **options):
    """``optimizer(params, ...)`` with a valid learning rate unless one is given."""
    options.setdefault("lr", 0.1)
    return optimizer(params, **options)


# -- the parameter list ------------------------------------------------------------------------------
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_a_parameter_listed_twice_is_refused(optimizer):
    w = Value(1.0)
    name = optimizer.__name__
    with pytest.raises(
        ValueError, match=rf"^{name}: parameter 1 is the same object as parameter 0.*list each parameter once"
    ):
        make(optimizer, [w, w])
    layer = Linear(2, 2, rng=0)
    with pytest.raises(ValueError, match=rf"^{name}: parameter 2 is the same object as parameter 0"):
        make(optimizer, layer.parameters() + layer.parameters())


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_equal_numbers_are_still_two_parameters(optimizer):
    # duplicates are found by identity: two weights that happen to hold the same number are both trained
    a, b = Value(2.0), Value(2.0)
    opt = make(optimizer, [a, b])
    assert opt.params[0] is a and opt.params[1] is b
    t, u = Tensor([1.0, 2.0], requires_grad=True), Tensor([1.0, 2.0], requires_grad=True)
    assert len(make(optimizer, [t, u]).params) == 2


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_a_single_parameter_instead_of_a_list_is_refused(optimizer):
    name = optimizer.__name__
    with pytest.raises(TypeError, match=rf"^{name}: params must be a list of parameters, got a single Value"):
        make(optimizer, Value(1.0))
    # a Tensor iterates over its rows: each row would become a "parameter" that nothing reads
    with pytest.raises(TypeError, match=rf"^{name}: params must be a list of parameters, got a single Tensor"):
        make(optimizer, Tensor(np.ones((3, 2)), requires_grad=True))


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("params, type_name", [(5, "int"), (None, "NoneType"), ("weights", "str"), (2.5, "float")])
def test_a_non_list_is_refused(optimizer, params, type_name):
    with pytest.raises(
        TypeError, match=rf"^{optimizer.__name__}: params must be a list of Values or Tensors.*{type_name}"
    ):
        make(optimizer, params)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_items_that_are_not_values_or_tensors_are_refused(optimizer):
    name = optimizer.__name__
    with pytest.raises(TypeError, match=rf"^{name}: parameter 1 is float 2\.0, not a Value or a Tensor"):
        make(optimizer, [Value(1.0), 2.0])
    with pytest.raises(TypeError, match=rf"^{name}: parameter 0 is ndarray .*not a Value or a Tensor"):
        make(optimizer, [np.ones(3)])
    # a list of lists (one per layer) gets told how to join them
    with pytest.raises(TypeError, match=rf"^{name}: parameter 0 is list .*a\.parameters\(\) \+ b\.parameters\(\)"):
        make(optimizer, [[Value(1.0)], [Value(2.0)]])
    # torch-style parameter groups are not supported
    with pytest.raises(TypeError, match=rf"^{name}: parameter 0 is dict"):
        make(optimizer, [{"params": [Value(1.0)]}])


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_results_of_operations_are_refused(optimizer):
    name = optimizer.__name__
    w0 = Value(1.0)
    with pytest.raises(ValueError, match=rf"^{name}: parameter 1 is not a leaf: it is the result of '\*'"):
        make(optimizer, [w0, w0 * 1.0])
    t = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=rf"^{name}: parameter 0 is not a leaf: it is the result of '\+'"):
        make(optimizer, [t + 1.0])


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_a_generator_of_parameters_is_read_once_and_kept(optimizer):
    params = [Value(1.0), Value(-2.0)]
    opt = make(optimizer, (p for p in params))
    assert opt.params == params and all(a is b for a, b in zip(opt.params, params))


# -- hyperparameters ---------------------------------------------------------------------------------
BAD_LEARNING_RATES = [
    (math.nan, ValueError, r"got nan"),
    (math.inf, ValueError, r"got inf"),
    (-math.inf, ValueError, r"got -inf"),
    (-0.5, ValueError, r"got -0\.5"),
    (0.0, ValueError, r"got 0\.0"),
    (np.float32("nan"), ValueError, r"got np\.float32\(nan\)"),
    (10**400, ValueError, r"got 1000"),  # an int too big for a float
    ("0.1", TypeError, r"must be a real number, got str '0\.1'"),
    (True, TypeError, r"must be a real number, got bool True"),
    (None, TypeError, r"must be a real number, got NoneType None"),
    (1 + 0j, TypeError, r"must be a real number, got complex"),
]


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("lr, error, message", BAD_LEARNING_RATES)
def test_bad_learning_rates_are_refused(optimizer, lr, error, message):
    name = optimizer.__name__
    with pytest.raises(error, match=rf"^{name}: learning rate .*{message}.*e\.g\. lr=0\.01"):
        optimizer([Value(1.0)], lr=lr)


@pytest.mark.parametrize("momentum", [1.0, 1.5, -0.1, math.nan, math.inf])
def test_sgd_momentum_must_be_in_the_unit_interval(momentum):
    with pytest.raises(ValueError, match=rf"^SGD: momentum must be in \[0, 1\), got {momentum!r}.*momentum=0\.9"):
        SGD([Value(1.0)], lr=0.1, momentum=momentum)
    with pytest.raises(TypeError, match=r"^SGD: momentum must be a real number, got str"):
        SGD([Value(1.0)], lr=0.1, momentum="0.9")


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("weight_decay", [-1e-4, math.nan, math.inf])
def test_weight_decay_must_be_finite_and_not_negative(optimizer, weight_decay):
    with pytest.raises(ValueError, match=rf"^{optimizer.__name__}: weight_decay must be >= 0, got {weight_decay!r}"):
        optimizer([Value(1.0)], lr=0.1, weight_decay=weight_decay)


@pytest.mark.parametrize("optimizer", [Adam, AdamW])
def test_betas_must_be_a_pair_in_the_unit_interval(optimizer):
    name = optimizer.__name__
    for betas in [(0.9,), (0.9, 0.99, 0.999), []]:
        with pytest.raises(
            ValueError, match=rf"^{name}: betas must be a pair \(beta1, beta2\).*got {re_escape(betas)}"
        ):
            optimizer([Value(1.0)], betas=betas)
    for betas in [0.9, "ab", None]:
        with pytest.raises(TypeError, match=rf"^{name}: betas must be a pair \(beta1, beta2\)"):
            optimizer([Value(1.0)], betas=betas)
    for betas in [(0.9, 1.0), (1.0, 0.999), (-0.1, 0.9), (0.9, math.nan), (math.inf, 0.9)]:
        with pytest.raises(ValueError, match=rf"^{name}: betas must be in \[0, 1\), got {re_escape(betas)}"):
            optimizer([Value(1.0)], betas=betas)
    with pytest.raises(TypeError, match=rf"^{name}: betas must be a real number, got str '0\.9'"):
        optimizer([Value(1.0)], betas=("0.9", 0.999))


@pytest.mark.parametrize("optimizer", [Adam, AdamW])
@pytest.mark.parametrize("eps", [0.0, -1e-8, math.nan, math.inf])
def test_eps_must_be_a_finite_positive_number(optimizer, eps):
    with pytest.raises(ValueError, match=rf"^{optimizer.__name__}: eps must be > 0, got {eps!r}.*eps=1e-8"):
        optimizer([Value(1.0)], eps=eps)


def re_escape(x) -> str:
    import re

    return re.escape(repr(x))


# -- real numbers of any type train as torch.optim does, and scalar parameters stay Python floats ------
def objective(x, y):
    return (x - 1.5) ** 2 + 3 * (y + 0.5) ** 2 + (x * y).tanh()


# (our hyperparameter, the float torch gets): np.float32(0.1) is 0.10000000149011612, not 0.1
NUMBERS = [
    (np.float32(0.125), 0.125),
    (np.float32(0.1), float(np.float32(0.1))),
    (np.float64(0.1), 0.1),
    (Fraction(1, 10), 0.1),
]


def step_both(optimizer, loss, t_optimizer, t_loss) -> None:
    """One step of each optimizer on its own side: zero the grads, back-propagate the loss, step."""
    for opt, make_loss in ((optimizer, loss), (t_optimizer, t_loss)):
        opt.zero_grad()
        make_loss().backward()
        opt.step()


@pytest.mark.parametrize("lr, torch_lr", NUMBERS, ids=["float32-exact", "float32", "float64", "fraction"])
@pytest.mark.parametrize(
    "ours, theirs, options",
    [
        (SGD, "SGD", {"momentum": np.float32(0.5), "weight_decay": np.float64(0.01)}),
        (Adam, "Adam", {"betas": (np.float32(0.75), np.float64(0.99)), "eps": np.float64(1e-8)}),
        (AdamW, "AdamW", {"weight_decay": Fraction(1, 20)}),
    ],
    ids=["SGD", "Adam", "AdamW"],
)
def test_numpy_and_fraction_hyperparameters_train_like_torch(torch, lr, torch_lr, ours, theirs, options):
    params = [Value(0.3), Value(-1.2)]
    t_params = [torch.tensor(p.data, requires_grad=True) for p in params]
    optimizer = ours(params, lr=lr, **options)
    torch_options = {k: (tuple(float(b) for b in v) if isinstance(v, tuple) else float(v)) for k, v in options.items()}
    t_optimizer = getattr(torch.optim, theirs)(t_params, lr=torch_lr, **torch_options)
    assert type(optimizer.lr) is float and optimizer.lr == torch_lr
    for step in range(6):
        step_both(optimizer, lambda: objective(*params), t_optimizer, lambda: objective(*t_params))
        # a NumPy scalar here would spread to every later result (and once broke zero_grad on step 3)
        assert all(type(p.data) is float and type(p.grad) is float for p in params), f"step {step}"
        assert_close([p.data for p in params], [t.item() for t in t_params], rtol=0.0, atol=1e-12, what=f"step {step}")


def test_integer_hyperparameters_become_floats():
    opt = SGD([Value(1.0)], lr=np.int64(1), momentum=0, weight_decay=np.int32(0))
    assert (opt.lr, opt.momentum, opt.weight_decay) == (1.0, 0.0, 0.0)
    assert all(type(x) is float for x in (opt.lr, opt.momentum, opt.weight_decay))
    adam = Adam([Value(1.0)], lr=1, betas=[0, np.float32(0.5)], eps=Fraction(1, 10**8))
    assert adam.betas == (0.0, 0.5) and adam.eps == 1e-8 and type(adam.betas[1]) is float


# -- each parameter counts its own Adam steps, as in torch.optim ---------------------------------------
@pytest.mark.parametrize(
    "ours, theirs, options",
    [
        (Adam, "Adam", {"lr": 0.1}),
        (Adam, "Adam", {"lr": 0.1, "weight_decay": 0.1}),
        (AdamW, "AdamW", {"lr": 0.1, "weight_decay": 0.1}),
        (SGD, "SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1}),
    ],
    ids=["Adam", "Adam-L2", "AdamW", "SGD-momentum"],
)
def test_a_parameter_that_joins_late_is_stepped_like_torch(torch, ours, theirs, options):
    # b takes no part in the first two losses (its grad stays None, and torch skips it): its bias
    # correction must start at its own first step, not at the optimizer's third.
    rng = np.random.default_rng(0)
    start_a, start_b = rng.standard_normal(3), rng.standard_normal(3)
    a, b = Tensor(start_a, requires_grad=True), Tensor(start_b, requires_grad=True)
    ta, tb = torch.tensor(start_a, requires_grad=True), torch.tensor(start_b, requires_grad=True)
    optimizer = ours([a, b], **options)
    t_optimizer = getattr(torch.optim, theirs)([ta, tb], **options)

    def loss(x, y, step):
        return (x * x).sum() if step < 2 else (x * y).tanh().sum() + (y * y).sum()

    for step in range(6):
        step_both(optimizer, lambda k=step: loss(a, b, k), t_optimizer, lambda k=step: loss(ta, tb, k))
        assert_close(a.data, ta, rtol=0.0, atol=1e-12, what=f"step {step}: a")
        assert_close(b.data, tb, rtol=0.0, atol=1e-12, what=f"step {step}: b")
    assert not np.array_equal(b.data, start_b)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_a_model_or_its_parameters_method_instead_of_the_list_is_refused(optimizer):
    from chainrule.nn import MLP, Sequential, Tanh

    name = optimizer.__name__
    for model in [MLP(2, [3, 1], rng=0), Sequential(Linear(2, 3, rng=0), Tanh())]:
        with pytest.raises(TypeError, match=rf"^{name}: got the model {type(model).__name__}, not its parameters"):
            make(optimizer, model)
        with pytest.raises(
            TypeError, match=rf"^{name}: params must be .*got the function .*call it: model\.parameters\(\)"
        ):
            make(optimizer, model.parameters)


@pytest.mark.parametrize("ours, theirs", [(SGD, "SGD"), (Adam, "Adam"), (AdamW, "AdamW")])
def test_a_learning_rate_schedule_set_between_steps_is_checked_and_follows_torch(torch, ours, theirs):
    params = [Value(0.3), Value(-1.2)]
    t_params = [torch.tensor(p.data, requires_grad=True) for p in params]
    optimizer, t_optimizer = ours(params, lr=0.1), getattr(torch.optim, theirs)(t_params, lr=0.1)
    for step in range(6):
        lr = np.float32(0.125) / (step + 1)  # a NumPy number, as a schedule computed with NumPy gives
        optimizer.lr = lr
        for group in t_optimizer.param_groups:
            group["lr"] = float(lr)
        step_both(optimizer, lambda: objective(*params), t_optimizer, lambda: objective(*t_params))
        assert type(optimizer.lr) is float and all(type(p.data) is float for p in params)
        assert_close([p.data for p in params], [t.item() for t in t_params], rtol=0.0, atol=1e-12, what=f"step {step}")
    for bad, error in [(math.nan, ValueError), (-0.1, ValueError), ("0.1", TypeError)]:
        with pytest.raises(error, match=rf"^{ours.__name__}: learning rate must be"):
            optimizer.lr = bad
    assert optimizer.lr == float(np.float32(0.125) / 6)
