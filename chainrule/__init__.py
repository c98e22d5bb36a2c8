"""chainrule: backpropagation you can read, from the notes' scalar ``Value`` to NumPy ``Tensor`` s.

``Value``, ``numerical_derivative``, ``gradcheck``, ``chainrule.nn`` (Neuron, Layer, MLP),
``chainrule.losses``, ``chainrule.optim`` and ``no_grad`` need only the standard library. ``Tensor``
(with ``cat``, ``stack`` and ``one_hot``) and ``draw_dot`` load NumPy or graphviz the first time you use
them; ``save``, ``load`` and ``load_state_dict`` (a model to a safetensors file and back) load NumPy and
safetensors when called.
"""

from chainrule.autodiff import grad, is_grad_enabled, no_grad
from chainrule.engine import Value
from chainrule.gradcheck import GradcheckError, gradcheck, numerical_derivative

__version__ = "0.1.0"

_LAZY = {
    "Tensor": "chainrule.tensor",
    "draw_dot": "chainrule.viz.graph",
    "save": "chainrule.serialization",
    "load": "chainrule.serialization",
    "load_state_dict": "chainrule.serialization",
    "cat": "chainrule.tensor_joins",
    "stack": "chainrule.tensor_joins",
    "one_hot": "chainrule.tensor_array",
}

__all__ = [
    "Value",
    "grad",
    "numerical_derivative",
    "gradcheck",
    "GradcheckError",
    "no_grad",
    "is_grad_enabled",
    *_LAZY,
]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")


def __dir__():
    # dir() and Jupyter's tab completion list the names __getattr__ resolves, not only the loaded ones.
    return sorted(set(globals()) | set(_LAZY))
