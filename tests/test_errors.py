"""Bad input gives a clear error: the right exception type, naming the operation and the offending value."""

from __future__ import annotations

import random

import pytest

from chainrule import Value, gradcheck, numerical_derivative
from chainrule.losses import binary_cross_entropy, cross_entropy, hinge, mse
from chainrule.nn import MLP, Layer, Neuron
from chainrule.optim import SGD, Adam, AdamW

# -- data that is not a real number ----------------------------------------------------------------


@pytest.mark.parametrize(
    "data, type_name",
    [("3", "str"), (None, "NoneType"), ([1.0], "list"), (1 + 2j, "complex"), ({"x": 1}, "dict"), (b"1", "bytes")],
)
def test_value_of_a_non_number_is_a_type_error_naming_the_type(data, type_name):
    with pytest.raises(TypeError, match=rf"expected a real number.*got {type_name}\b"):
        Value(data)


def test_value_of_a_value_is_a_type_error():
    with pytest.raises(TypeError, match=r"got Value"):
        Value(Value(1.0))


@pytest.mark.parametrize(
    "expression, type_name",
    [
        (lambda a: a + "2", "str"),
        (lambda a: "2" + a, "str"),
        (lambda a: a * None, "NoneType"),
        (lambda a: a - [1.0], "list"),
        (lambda a: a / "x", "str"),
    ],
)
def test_operand_of_the_wrong_type(expression, type_name):
    # (a - x is a + (-x), so for a list Python's own "bad operand type for unary -: 'list'" comes first)
    with pytest.raises(TypeError, match=rf"\b'?{type_name}\b"):
        expression(Value(2.0))


def test_exponent_of_the_wrong_type_names_pow():
    with pytest.raises(TypeError, match=r"pow.*got str"):
        Value(2.0) ** "2"


# -- log, division, exp, pow -----------------------------------------------------------------------


@pytest.mark.parametrize("x", [0.0, -2.5, -1e-300, -1e300])
def test_log_of_a_non_positive_number(x):
    with pytest.raises(ValueError, match=rf"^log: .*> 0.*{re_number(x)}"):
        Value(x).log()


def re_number(x: float) -> str:
    import re

    return re.escape(repr(x))


def test_log_error_names_the_label():
    with pytest.raises(ValueError, match=r"log.*-1\.0.*'weight'"):
        Value(-1.0, label="weight").log()


@pytest.mark.parametrize(
    "expression",
    [
        lambda: Value(1.0) / Value(0.0),
        lambda: Value(1.0) / 0,
        lambda: Value(1.0) / 0.0,
        lambda: 3 / Value(0.0),
        lambda: Value(-2.0) / Value(-0.0),
        lambda: Value(0.0) / Value(0.0),
    ],
)
def test_division_by_zero_names_the_division(expression):
    with pytest.raises(ZeroDivisionError, match=r"^div: cannot divide .* by zero"):
        expression()


def test_division_by_zero_names_the_numerator():
    with pytest.raises(ZeroDivisionError, match=r"divide 7\.5 .*by zero"):
        Value(7.5) / Value(0.0)


@pytest.mark.parametrize(
    "expression", [lambda: Value(0.0) ** -1, lambda: Value(0.0) ** -0.5, lambda: Value(0.0) ** Value(-2.0)]
)
def test_negative_power_of_zero_names_pow(expression):
    with pytest.raises(ZeroDivisionError, match=r"^pow: 0\.0 \*\* -"):
        expression()


@pytest.mark.parametrize("x", [710.0, 1000.0, 1e10])
def test_exp_overflow_names_exp_and_the_value(x):
    with pytest.raises(OverflowError, match=rf"^exp: exp\({re_number(x)}\) is too large"):
        Value(x).exp()


def test_exp_just_below_overflow_is_fine():
    assert Value(709.0).exp().data == pytest.approx(8.218407461554972e307, rel=1e-15)


@pytest.mark.parametrize(
    "expression, numbers",
    [
        (lambda: Value(10.0) ** 400, ("10.0", "400")),
        (lambda: Value(10.0) ** Value(400.0), ("10.0", "400.0")),
        (lambda: 2 ** Value(5000.0), ("2.0", "5000.0")),
    ],
)
def test_power_overflow_names_pow_and_both_numbers(expression, numbers):
    with pytest.raises(OverflowError, match=r"^pow: ") as info:
        expression()
    assert all(n in str(info.value) for n in numbers)


@pytest.mark.parametrize(
    "expression, base, exponent",
    [
        (lambda: Value(-2.0) ** 0.5, "-2.0", "0.5"),
        (lambda: Value(-8.0) ** -1.5, "-8.0", "-1.5"),
        (lambda: Value(-8.0) ** Value(1 / 3), "-8.0", "0.333"),
        (lambda: 2 ** Value(0.5) * Value(-1.0) ** Value(2.5), "-1.0", "2.5"),
    ],
)
def test_negative_base_with_a_fractional_exponent(expression, base, exponent):
    with pytest.raises(ValueError, match=r"^pow: .*no real value") as info:
        expression()
    assert base in str(info.value) and exponent in str(info.value)


def test_negative_base_with_a_whole_exponent_is_fine():
    assert (Value(-2.0) ** 3).data == -8.0
    assert (Value(-2.0) ** Value(-2.0)).data == 0.25


# -- networks --------------------------------------------------------------------------------------


@pytest.mark.parametrize("inputs", [[1.0, 2.0], [1.0, 2.0, 3.0, 4.0], [], 5.0])
def test_neuron_fed_the_wrong_number_of_inputs(inputs):
    n = len(inputs) if isinstance(inputs, list) else 1
    with pytest.raises(ValueError, match=rf"^Neuron: expected 3 inputs, got {n}$"):
        Neuron(3)(inputs)


def test_mlp_fed_the_wrong_number_of_inputs():
    with pytest.raises(ValueError, match=r"expected 3 inputs, got 2"):
        MLP(3, [4, 1])([1.0, 2.0])


@pytest.mark.parametrize(
    "args, message",
    [
        ((0, [4]), r"^MLP: nin .* must be a positive integer, got 0"),
        ((-3, [4]), r"^MLP: nin .* must be a positive integer, got -3"),
        ((2.5, [4]), r"^MLP: nin .* must be a positive integer, got 2\.5"),
        ((True, [4]), r"^MLP: nin .* must be a positive integer, got True"),
        (("3", [4]), r"^MLP: nin .* must be a positive integer, got '3'"),
        ((3, []), r"^MLP: nouts must be a non-empty list of layer sizes"),
        ((3, 4), r"^MLP: nouts must be a non-empty list of layer sizes.*got 4"),
        ((3, "41"), r"^MLP: nouts must be a non-empty list"),
        ((3, [4, 0]), r"^MLP: each layer size must be a positive integer, got 0"),
        ((3, [4, -1, 1]), r"^MLP: each layer size must be a positive integer, got -1"),
        ((3, [4, 1.5]), r"^MLP: each layer size must be a positive integer, got 1\.5"),
        ((3, [4, None]), r"^MLP: each layer size must be a positive integer, got None"),
    ],
)
def test_bad_mlp_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        MLP(*args)


def test_bad_neuron_and_layer_sizes():
    with pytest.raises(ValueError, match=r"^Neuron: nin .* got 0"):
        Neuron(0)
    with pytest.raises(ValueError, match=r"^Layer: nout .* got 0"):
        Layer(3, 0)
    with pytest.raises(ValueError, match=r"^Neuron: nin .* got -2"):
        Layer(-2, 3)


@pytest.mark.parametrize(
    "build, where, name",
    [
        (lambda: Neuron(3, activation="softmax"), "Neuron", "softmax"),
        (lambda: Layer(3, 2, activation="Tanh"), "Neuron", "Tanh"),
        (lambda: MLP(3, [4, 1], activation="gelu"), "MLP", "gelu"),
        (lambda: MLP(3, [4, 1], output_activation="identity"), r"MLP \(output\)", "identity"),
    ],
)
def test_bad_activation_names(build, where, name):
    with pytest.raises(
        ValueError, match=rf"^{where}: activation must be one of tanh, relu, sigmoid, linear; got '{name}'"
    ):
        build()


def test_good_arguments_still_work():
    model = MLP(3, [4, 1], activation="relu", output_activation="linear", rng=random.Random(0))
    assert isinstance(model([1.0, 2.0, 3.0]), Value)


# -- losses ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", [3, 7, -1])
def test_cross_entropy_target_out_of_range(target):
    with pytest.raises(ValueError, match=rf"^cross_entropy: target {target} is out of range for 3 classes"):
        cross_entropy([Value(1.0), Value(2.0), Value(3.0)], target)


@pytest.mark.parametrize("target", [1.0, "1", True, None])
def test_cross_entropy_target_must_be_an_integer(target):
    with pytest.raises(TypeError, match=r"^cross_entropy: target must be an integer class index"):
        cross_entropy([Value(1.0), Value(2.0)], target)


def test_cross_entropy_batch_with_a_bad_target_or_count():
    rows = [[Value(1.0), Value(0.0)], [Value(0.5), Value(2.0)]]
    with pytest.raises(ValueError, match=r"target 2 is out of range for 2 classes"):
        cross_entropy(rows, [0, 2])
    with pytest.raises(ValueError, match=r"^cross_entropy: 2 examples but 3 targets"):
        cross_entropy(rows, [0, 1, 1])


@pytest.mark.parametrize("labels, bad", [([0, 1], "0"), ([1, 2], "2"), ([0.5, -1], "0.5"), ([1, -1, -2], "-2")])
def test_hinge_labels_must_be_plus_or_minus_one(labels, bad):
    with pytest.raises(ValueError, match=rf"^hinge: labels must be -1 or \+1, got {bad}$"):
        hinge([Value(0.3)] * len(labels), labels)


def test_hinge_accepts_float_labels_of_plus_or_minus_one():
    assert hinge([Value(0.5), Value(-0.5)], [1.0, -1.0], reduction="sum").data == 1.0


@pytest.mark.parametrize("p", [0.0, 1.0, -0.2, 1.5])
def test_binary_cross_entropy_needs_probabilities(p):
    with pytest.raises(ValueError, match=rf"^binary_cross_entropy: predictions must be probabilities .*got {p}"):
        binary_cross_entropy([Value(p)], [1.0])


@pytest.mark.parametrize("y", [-0.5, 2.0])
def test_binary_cross_entropy_targets_in_the_unit_interval(y):
    with pytest.raises(ValueError, match=rf"^binary_cross_entropy: targets must lie in \[0, 1\], got {y}"):
        binary_cross_entropy([Value(0.5)], [y])


def test_mse_argument_errors():
    with pytest.raises(ValueError, match=r"^mse: 2 predictions but 3 targets"):
        mse([Value(1.0), Value(2.0)], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"^mse: got no predictions"):
        mse([], [])
    with pytest.raises(ValueError, match=r"^mse: reduction must be 'mean' or 'sum', got 'avg'"):
        mse([Value(1.0)], [1.0], reduction="avg")


# -- gradcheck and optimizers ----------------------------------------------------------------------


def test_numerical_derivative_argument_errors():
    with pytest.raises(ValueError, match=r"^numerical_derivative: step h must be > 0, got 0"):
        numerical_derivative(lambda x: x, 1.0, h=0)
    with pytest.raises(ValueError, match=r"^numerical_derivative: method must be 'central' or 'forward', got 'back'"):
        numerical_derivative(lambda x: x, 1.0, method="back")


def test_gradcheck_is_an_assertion_error_subclass_with_its_own_name():
    from chainrule import GradcheckError

    assert issubclass(GradcheckError, AssertionError)
    assert gradcheck(lambda v: v * 2, [Value(1.0)])


@pytest.mark.parametrize("optimizer", [SGD, Adam, AdamW])
def test_optimizer_argument_errors(optimizer):
    name = optimizer.__name__
    with pytest.raises(ValueError, match=rf"^{name}: got an empty parameter list"):
        optimizer([], lr=0.1)
    with pytest.raises(ValueError, match=rf"^{name}: learning rate must be > 0, got 0"):
        optimizer([Value(1.0)], lr=0)
    with pytest.raises(ValueError, match=rf"^{name}: learning rate must be > 0, got -0\.1"):
        optimizer([Value(1.0)], lr=-0.1)


def test_momentum_and_betas_ranges():
    with pytest.raises(ValueError, match=r"^SGD: momentum must be in \[0, 1\), got 1\.0"):
        SGD([Value(1.0)], lr=0.1, momentum=1.0)
    with pytest.raises(ValueError, match=r"^Adam: betas must be in \[0, 1\), got \(0\.9, 1\.0\)"):
        Adam([Value(1.0)], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match=r"^AdamW: betas must be in \[0, 1\)"):
        AdamW([Value(1.0)], betas=(-0.1, 0.9))


# Both engines name an operation with the same word, and say what is wrong with the same exception and the
# same phrase (chainrule/domains.py writes it for both), so an error reads the same whichever engine hit it.
SAME_ERROR_IN_BOTH_ENGINES = {
    "div": (lambda a: a / 0.0, 1.5, ZeroDivisionError, ["div: cannot divide 1.5 by zero (0.0)"]),
    "log": (lambda a: a.log(), -1.0, ValueError, ["log: input must be > 0, got -1.0"]),
    "pow": (
        lambda a: a**0.5,
        -2.0,
        ValueError,
        ["pow: -2.0 ** 0.5", "has no real value (negative base, non-integer exponent)"],
    ),
    "pow zero": (
        lambda a: a**-1.0,
        0.0,
        ZeroDivisionError,
        ["pow: 0.0 ** -1.0", "divides by zero (negative power of zero)"],
    ),
    "exp overflow": (
        lambda a: a.exp(),
        1000.0,
        OverflowError,
        ["exp: exp(1000.0)", "is too large for", "(inputs above about 709.78 overflow", "numerically stable form"],
    ),
    "add": (lambda a: a + None, 1.0, TypeError, ["add: "]),
    "mul": (lambda a: a * "x", 1.0, TypeError, ["mul: "]),
}


@pytest.mark.parametrize("name", list(SAME_ERROR_IN_BOTH_ENGINES))
def test_both_engines_name_an_operation_with_the_same_word(name):
    import numpy as np

    from chainrule import Tensor

    f, bad, error, phrases = SAME_ERROR_IN_BOTH_ENGINES[name]
    words = []
    for leaf in (Value(bad), Tensor(np.array([bad]), requires_grad=True)):
        with pytest.raises(error) as caught:
            f(leaf)
        assert type(caught.value) is error, f"{name}: {type(leaf).__name__} raised {type(caught.value).__name__}"
        message = str(caught.value)
        words.append(message.split(":")[0])
        missing = [phrase for phrase in phrases if phrase not in message]
        assert not missing, f"{name}: {type(leaf).__name__} says {message!r}, without {missing}"
    assert words[0] == words[1] == name.split()[0], f"{name}: Value says {words[0]!r}, Tensor says {words[1]!r}"


@pytest.mark.parametrize("method", ["softmax", "log_softmax"])
def test_softmax_of_one_number_takes_only_the_axes_torch_takes(torch, method):
    import numpy as np

    from chainrule import Tensor

    x = Tensor(np.array(2.0), requires_grad=True)
    for axis in (0, -1):
        out = getattr(x, method)(axis)
        assert out.item() == getattr(torch.tensor(2.0), method)(axis).item()
    for axis in (1, 5, -2):
        with pytest.raises(ValueError, match=rf"^{method}: axis {axis} is out of range for a 0-d tensor"):
            getattr(x, method)(axis)
        with pytest.raises(IndexError):
            getattr(torch.tensor(2.0), method)(axis)
