"""Save a trained model to a file, and load it back in another process, on another day.

    chainrule.save(model, "moons.safetensors", metadata={"note": "100 steps, lr 1.0"})
    model = chainrule.load("moons.safetensors")        # the same layers, bit for bit the same numbers

    net = Net()                                          # a Module class of your own: build it, then fill it
    net.load_state_dict(chainrule.load_state_dict("net.safetensors"))

What ``load`` rebuilds by itself: the notes' ``MLP`` (its input count, each layer's size and
activation), a bare ``Linear``, and a ``Sequential`` of ``Linear``, ``ReLU``, ``Tanh``, ``Sigmoid``,
``Identity`` and further ``Sequential`` s, with a layer used twice rebuilt as one shared layer. Any other
model is saved too (its ``state_dict``, recorded as "custom" with its class name); ``load`` then says to
build the model and use ``load_state_dict``, since rebuilding it would mean running code the file names.

The file is a standard safetensors file (written with ``safetensors.numpy.save``), so other tools read it:
``safetensors.numpy.load_file(path)`` gives NumPy arrays and ``safetensors.torch.load_file(path)`` torch
tensors, equal to ``model.state_dict()``.

* One tensor per ``state_dict`` entry, under the same name (``0.weight``, ``layers.0.neurons.3.w.1``),
  with the same dtype: float32 stays float32. A scalar ``Value`` is a 0-d tensor (shape ``()``):
  safetensors stores 0-d tensors as they are (torch reads them as 0-d tensors too), so every name and
  shape maps back exactly; no reshaping or grouping is needed.
* Weights keep chainrule's layout: a ``Linear`` computes ``x @ weight + bias``, so its weight is
  ``(nin, nout)``; PyTorch's ``nn.Linear`` keeps the transpose, ``(nout, nin)``.
* The header's metadata (safetensors allows strings only) says what the file holds:
  ``format``: ``"chainrule"`` (this layout, not PyTorch's ``"pt"``); ``chainrule.format_version``: ``"1"``;
  ``chainrule.version``: the chainrule that wrote it; ``chainrule.architecture``: JSON, how to rebuild the
  model (e.g. ``{"type": "Sequential", "layers": [{"type": "Linear", "nin": 2, "nout": 16, "bias": true,
  "dtype": "float64"}, {"type": "ReLU"}, {"same_as": "0"}]}``); ``chainrule.metadata``: JSON, the
  ``metadata`` given to ``save`` (``read_metadata`` gives it back).

Loading reads numbers and JSON, nothing else: the architecture is matched against chainrule's own classes
only, nothing named in a file is imported or run, and pickle is never used. A pickle, or the zip archive
``torch.save`` writes, is recognised by its first bytes and refused unopened, whatever its file name.

Saving is atomic: the file is written under a temporary name in the same folder, flushed to disk, and
then renamed over the target, so an interrupted save leaves the previous model (or nothing) in place,
never half a file, and no temporary file behind.

Needs the ``safetensors`` package (``pip install 'chainrule[save]'``); importing this package does not.

The package, one concept a module: ``files``, the safetensors file itself (atomic writing, and reading
that checks the header before trusting it); ``architecture``, the JSON record of how to rebuild a
model, and the rebuilding; ``save_load``, ``save``, ``load`` and the rest, built on the two.
"""

from chainrule.serialization.files import (
    DTYPES,
    INSTALL_HINT,
    MAX_HEADER_BYTES,
    ModelFileError,
    PathLike,
    require_safetensors,
)
from chainrule.serialization.files import (
    _safetensors_numpy as _safetensors_numpy,  # private; tests call it from here
)
from chainrule.serialization.save_load import (
    FORMAT,
    FORMAT_VERSION,
    load,
    load_state_dict,
    read_architecture,
    read_metadata,
    save,
)

__all__ = [
    "save",
    "load",
    "load_state_dict",
    "read_metadata",
    "read_architecture",
    "require_safetensors",
    "ModelFileError",
    "PathLike",
    "FORMAT",
    "FORMAT_VERSION",
    "INSTALL_HINT",
    "DTYPES",
    "MAX_HEADER_BYTES",
]
