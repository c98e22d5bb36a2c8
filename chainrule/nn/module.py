"""What every model has in common, written the PyTorch way: subclass ``Module``, assign layers and
parameters as attributes, write ``forward``, call the model.

    class Net(Module):
        def __init__(self):
            self.fc1 = Linear(4, 8)
            self.fc2 = Linear(8, 3)

        def forward(self, x):
            return self.fc2(self.fc1(x).relu())

``Net().parameters()`` finds ``fc1.weight``, ``fc1.bias``, ``fc2.weight``, ``fc2.bias``: a module's
parameters are found by walking its attributes in the order they were assigned, into sub-modules and
into lists, tuples and dicts of them (the notes' ``Layer`` keeps ``self.neurons``, a ``Neuron``
keeps ``self.w``). A parameter is a leaf that can learn: a ``Value`` you made, or a ``Tensor`` with
``requires_grad=True``. Each one is listed once, under the first name it was found by, however many
places share it. No ``super().__init__()`` is needed: the notes' classes don't call it either.

State that is saved but never trained (batch norm's running mean and variance) is a buffer:
``self.register_buffer("running_mean", np.zeros(n))`` makes ``self.running_mean`` a Tensor without
``requires_grad`` that ``state_dict()`` and ``load_state_dict()`` include, named and ordered as in PyTorch.

Standard library only: NumPy is imported the first time you ask for a ``state_dict``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from numbers import Integral
from typing import Any, NamedTuple

from chainrule.autodiff import is_tensor, zero_grad
from chainrule.engine import Value


def check_size(n, what: str, where: str, minimum: int = 1) -> int:
    """``n`` as an int if it is a whole number >= ``minimum`` (an int or a NumPy integer, never a bool), else a
    ValueError naming ``where`` and ``what``: chainrule's one whole-number check, for layer sizes, batch
    sizes, sample counts, seeds and schedule steps alike."""
    if not isinstance(n, Integral) or isinstance(n, bool) or n < minimum:
        wanted = "a positive integer" if minimum == 1 else f"a whole number >= {minimum}"
        raise ValueError(f"{where}: {what} must be {wanted}, got {n!r}")
    return int(n)


def unique_parameters(params: Iterable) -> list:
    """``params`` with each parameter listed once, where it first appears.

    A layer used twice (``Sequential(lin, Tanh(), lin)``) or a Value shared by two neurons is one
    parameter: listed twice, an optimizer would step it twice and an L2 penalty would count it twice.
    Duplicates are found by identity, never by ``==`` (which an array type may define elementwise, as
    NumPy and PyTorch do): two weights that merely hold equal numbers are still two weights.
    """
    params = params if type(params) is list else list(params)
    if len(set(map(id, params))) == len(params):
        return params  # the usual case, found at C speed: nothing repeats
    # A dict keeps each key where it was first inserted; a repeated id maps to the same object again.
    return list({id(p): p for p in params}.values())


def is_plain(module, cls: type, attributes: frozenset) -> bool:
    """Whether ``module`` is exactly a built-in ``cls`` holding only its usual ``attributes``: then its own
    quick ``parameters()`` is the same list the attribute walk finds. A subclass, or one given more
    attributes, is walked like any module, so nothing it holds is left out."""
    return type(module) is cls and vars(module).keys() <= attributes


def is_parameter(x) -> bool:
    """A leaf that can learn: a ``Value`` with no ``_prev``, or a leaf ``Tensor`` with ``requires_grad``."""
    if isinstance(x, Value):
        return not x._prev
    return is_tensor(x) and x.requires_grad and not x._prev


# What a module holds that can never contain a parameter (ReLU, Tanh, ...: asked every step).
_FLAGS_ONLY = frozenset({"training"})

# What the attribute walk looks into (besides Tensors, found without importing NumPy).
_WALKED = (list, tuple, dict, Value)  # and Module, added below once the class exists


class LoadResult(NamedTuple):
    """What ``load_state_dict(..., strict=False)`` left out, as PyTorch reports it."""

    missing_keys: list
    unexpected_keys: list


class Module:
    """Base class of the notes' Neuron, Layer, MLP, the Tensor layers, and your own models."""

    training = True  # every module starts in training mode; train() and eval() switch it, children too
    # Attributes that hold this module's weights even when frozen (requires_grad=False): parameters()
    # leaves a frozen weight out, but state_dict() keeps it, as PyTorch keeps a frozen Parameter. Only
    # the names a class lists here: any other Tensor without requires_grad is a constant, not state.
    _weight_attributes: tuple = ()
    # Attributes whose weight PyTorch keeps transposed (a Linear's: torch's is (nout, nin), chainrule's
    # (nin, nout)): load_state_dict refuses a torch tensor for them, which would load a square one wrong.
    _transposed_in_torch: tuple = ()
    _summary_as_one_row = False  # summary() shows such a module (a notes Layer) as one row, not its parts

    # -- calling ---------------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if type(self).forward is Module.forward:
            raise NotImplementedError(
                f"{type(self).__name__}: define forward(self, x), the computation the model does; calling the "
                "model calls forward"
            )
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        """The computation: ``model(x)`` calls ``model.forward(x)``. Subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__}: define forward(self, x)")

    # -- what a module is made of ----------------------------------------------------------------------
    def _named_members(self) -> Iterator[tuple[str, Any]]:
        """This module's own attributes that may hold parameters or sub-modules, in assignment order."""
        return ((name, item) for name, item in vars(self).items() if name != "_buffers")

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The sub-modules directly inside this one (also those in lists), with their names."""
        for name, item in _walk(self._named_members(), ""):
            if isinstance(item, Module):
                yield name, item

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every module inside it, each once, with dotted names (``''`` for this one)."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [
                (f"{name}.{child_name}" if name else child_name, child) for child_name, child in module.named_children()
            ]
            stack.extend(reversed(children))  # depth first, in assignment order

    def modules(self) -> list[Module]:
        return [m for _, m in self.named_modules()]

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Any]]:
        """Every parameter with its dotted name (``fc1.weight``, ``layers.0.neurons.1.w.0``), in the
        order the attributes were assigned, each parameter once (under the first name found)."""
        seen = set()
        for module_name, module in self.named_modules(prefix):
            for name, item in _walk(module._named_members(), module_name):
                if is_parameter(item) and id(item) not in seen:
                    seen.add(id(item))
                    yield name, item

    def parameters(self) -> list:
        """Every trainable Value (or Tensor) of this module, each once, in a fixed order."""
        attributes = vars(self)
        if attributes.keys() <= _FLAGS_ONLY or not any(
            isinstance(item, _WALKED) or is_tensor(item) for item in attributes.values()
        ):
            return []  # nothing that could hold a parameter (ReLU, Tanh, ...): asked every step, so no walk
        return [p for _, p in self.named_parameters()]

    # -- buffers: state that is saved but not trained (batch norm's running statistics) ------------------
    def register_buffer(self, name: str, value) -> None:
        """Keep ``value`` (an array) as this module's buffer ``name``: a Tensor that is no parameter (no
        optimizer sees it, no gradient reaches it) but is part of ``state_dict()``, as in PyTorch.

        ``module.name`` reads it (a Tensor without ``requires_grad``); assigning ``module.name = array``
        replaces its numbers."""
        from chainrule.tensor import Tensor

        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"register_buffer: name must be an identifier, got {name!r}")
        buffers = self.__dict__.setdefault("_buffers", {})
        # A class attribute too (training, forward, parameters): it would shadow the buffer when read.
        if (name in vars(self) or hasattr(type(self), name)) and name != "_buffers":
            raise ValueError(f"register_buffer: {type(self).__name__} already has an attribute {name!r}")
        buffers[name] = value if is_tensor(value) else Tensor(value)

    def __getattr__(self, name: str):  # only reached when ordinary lookup fails
        buffers = self.__dict__.get("_buffers")
        if buffers is not None and name in buffers:
            return buffers[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value) -> None:
        buffers = self.__dict__.get("_buffers")
        if buffers is not None and name in buffers and is_parameter(value):
            # A parameter assigned over a buffer replaces it, as in PyTorch: kept as the buffer's numbers it
            # would be a constant no optimizer sees, and training would silently leave it where it was.
            del buffers[name]
        if buffers is not None and name in buffers:
            import numpy as np  # a module with buffers has NumPy loaded already

            current = buffers[name]
            numbers = value.data if is_tensor(value) else value
            # New numbers, the same shape, as load_state_dict requires: a (1, C) batch mean (keepdims) or a
            # scalar would broadcast through eval() unnoticed and only fail at save or in torch.
            if np.shape(numbers) != current.shape:
                raise ValueError(
                    f"{type(self).__name__}: buffer {name!r} has shape {current.shape}, got shape "
                    f"{np.shape(numbers)}; assign an array of its shape, e.g. np.reshape(value, {current.shape})"
                )
            current.data = numbers
        else:
            object.__setattr__(self, name, value)

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Any]]:
        """Every buffer (``register_buffer``) with its dotted name, module by module."""
        for module_name, module in self.named_modules(prefix):
            for name, buffer in module.__dict__.get("_buffers", {}).items():
                yield (f"{module_name}.{name}" if module_name else name), buffer

    def _named_state(self) -> Iterator[tuple[str, Any]]:
        """Parameters and buffers in PyTorch's ``state_dict`` order: module by module, each module's own
        parameters and then its buffers."""
        seen = set()
        for module_name, module in self.named_modules():
            own = vars(module)
            frozen = {id(own[a]) for a in module._weight_attributes if is_tensor(own.get(a)) and not own[a]._prev}
            for name, item in _walk(module._named_members(), module_name):
                if (is_parameter(item) or id(item) in frozen) and id(item) not in seen:
                    seen.add(id(item))
                    yield name, item
            for name, buffer in module.__dict__.get("_buffers", {}).items():
                yield (f"{module_name}.{name}" if module_name else name), buffer

    def zero_grad(self) -> None:
        """Reset the gradients of all parameters (they accumulate across ``backward()`` calls)."""
        zero_grad(self.parameters())

    # -- training and evaluation -----------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Put this module and every module inside it in training mode (``eval()`` for evaluation).

        Layers that act differently while training (dropout, batch normalisation) read ``self.training``.
        Returns the module, so ``model = Net().eval()`` works."""
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode must be True or False, got {mode!r}")
        for _, module in self.named_modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Evaluation mode for this module and every module inside it: ``train(False)``."""
        return self.train(False)

    # -- state -----------------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Every parameter's and buffer's numbers, by name: a NumPy array each (a Value gives a 0-d array);
        copies. Buffers (batch norm's running statistics) come after their module's parameters, as in PyTorch."""
        import numpy as np

        return {name: np.array(p.data, copy=True) for name, p in self._named_state()}

    def load_state_dict(self, state: Mapping, strict: bool = True) -> LoadResult:
        """Set every parameter and buffer from ``state`` (name to array, as ``state_dict()`` gives).

        All or nothing: every entry is checked first, and if any is missing, unexpected (``strict``) or
        of the wrong shape, one ValueError names every such key and the model is left unchanged.
        Returns the missing and unexpected keys (both empty when ``strict``)."""
        import numpy as np

        where = f"load_state_dict ({type(self).__name__})"
        if not isinstance(state, Mapping):
            raise TypeError(
                f"{where}: expected a dict of name to array (model.state_dict()), got {type(state).__name__}"
            )
        params = dict(self._named_state())
        transposed = {
            id(vars(module).get(attribute))
            for _, module in self.named_modules()
            for attribute in module._transposed_in_torch
        }
        missing = [name for name in params if name not in state]
        unexpected = [name for name in state if name not in params]
        problems = []
        if strict:
            problems += [f"missing {name!r}" for name in missing]
            problems += [f"unexpected {name!r}" for name in unexpected]
        arrays = {}
        for name, p in params.items():
            if name not in state:
                continue
            value = state[name]
            value = getattr(value, "data", value) if isinstance(value, Value) or is_tensor(value) else value
            if hasattr(value, "detach"):  # a torch tensor
                if id(p) in transposed:
                    problems.append(
                        f"{name!r} is a torch tensor for a Linear's weight, which chainrule keeps as (nin, nout), the "
                        "transpose of torch's (nout, nin) (a square one would load wrong with no error): convert "
                        "the whole model with chainrule.from_torch, or pass the numbers transposed, weight.T.numpy()"
                    )
                    continue
                value = value.detach().cpu().numpy()
            try:
                array = np.asarray(value)
            except (TypeError, ValueError):
                array = None
            if array is None or array.dtype.kind not in "biuf":
                problems.append(f"{name!r} is not an array of numbers ({type(value).__name__})")
                continue
            expected = () if isinstance(p, Value) else p.shape
            if array.shape != expected:
                problems.append(f"{name!r} has shape {array.shape}, the model's has shape {expected}")
                continue
            try:  # converted now, so that nothing is changed unless everything converts
                arrays[name] = float(array) if isinstance(p, Value) else np.array(array, dtype=p.dtype, copy=True)
            except (ValueError, TypeError, OverflowError, FloatingPointError) as error:
                problems.append(f"{name!r} cannot be converted to the model's numbers ({error})")
        if problems:
            shown = "; ".join(problems[:20]) + (f"; and {len(problems) - 20} more" if len(problems) > 20 else "")
            raise ValueError(f"{where}: {len(problems)} problem(s), nothing was loaded: {shown}")
        for name, numbers in arrays.items():
            params[name].data = numbers
        return LoadResult([] if strict else missing, [] if strict else unexpected)

    # -- looking at it -----------------------------------------------------------------------------
    def summary(self) -> str:
        """A table of the layers inside (name, what it is, its parameters' shapes and count) and the total.

        The useful view of a big model: a notes ``Layer`` is one row, not one per neuron."""
        rows = [("layer", "module", "parameters", "count")]
        seen: set = set()
        shown: set = set()  # modules already in a row: a module that refers back to its parent is shown once
        stack = [("", self)]
        while stack:
            name, module = stack.pop()
            if id(module) in shown:
                continue
            shown.add(id(module))
            children = list(module.named_children())
            whole = module._summary_as_one_row or not children
            own = [
                (n, p)
                for n, p in (module.named_parameters() if whole else _walk(module._named_members(), ""))
                if is_parameter(p) and id(p) not in seen
            ]
            seen.update(id(p) for _, p in own)
            if whole or own:
                count = sum(_size(p) for _, p in own)
                rows.append((name or "(itself)", _short_repr(module), _shapes(own), f"{count:,}"))
            if not whole:
                stack.extend(reversed([(f"{name}.{n}" if name else n, child) for n, child in children]))
        total = len(seen) and sum(_size(p) for p in self.parameters())
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = [
            "  ".join(cell.rjust(w) if i == 3 else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths)))
            for row in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        lines.append(f"total: {total:,} parameters")
        return "\n".join(lines)

    def __repr__(self) -> str:
        children = ", ".join(f"{name}={child!r}" for name, child in self.named_children())
        return f"{type(self).__name__}({children})"


_WALKED = (*_WALKED, Module)


def _walk(items: Iterable[tuple[str, Any]], prefix: str) -> Iterator[tuple[str, Any]]:
    """Modules and parameters among ``items``, looking into lists, tuples and dicts, with dotted names.
    Stops at modules (their insides are their own)."""
    stack = [(f"{prefix}.{name}" if prefix else str(name), item) for name, item in items]
    stack.reverse()
    while stack:
        name, item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed([(f"{name}.{i}", e) for i, e in enumerate(item)]))
        elif isinstance(item, dict):
            stack.extend(reversed([(f"{name}.{k}", e) for k, e in item.items()]))
        elif isinstance(item, Module) or isinstance(item, Value) or is_tensor(item):
            yield name, item


def _size(p) -> int:
    return 1 if isinstance(p, Value) else int(p.size)


def _shapes(own: list) -> str:
    values = sum(1 for _, p in own if isinstance(p, Value))
    parts = [f"{n.rsplit('.', 1)[-1]} {tuple(p.shape)}" for n, p in own if not isinstance(p, Value)]
    if values:
        parts.append(f"{values} Value{'s' if values != 1 else ''}")
    return ", ".join(parts) or "-"


def _short_repr(module: Module) -> str:
    text = repr(module) if type(module).__repr__ is not Module.__repr__ else type(module).__name__
    return text if len(text) <= 48 else type(module).__name__
