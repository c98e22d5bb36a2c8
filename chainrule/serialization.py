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

Needs the ``safetensors`` package (``pip install 'chainrule[save]'``); importing this module does not.
"""

from __future__ import annotations

import json
import os
import random
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Union

from chainrule.nn.module import Module

PathLike = Union[str, os.PathLike]

FORMAT = "chainrule"
FORMAT_VERSION = 1
INSTALL_HINT = "pip install safetensors (or pip install 'chainrule[save]')"
# What safetensors and NumPy can both hold; a parameter of another type (float128) cannot be saved.
DTYPES = ("float16", "float32", "float64")
# safetensors refuses headers over 100 MB; a length beyond that is not a safetensors file.
MAX_HEADER_BYTES = 100_000_000
_CHUNK_BYTES = 1 << 24  # written in 16 MiB pieces


class ModelFileError(ValueError):
    """A file that ``chainrule.load`` cannot use: not a safetensors file, damaged, or a model it does not
    rebuild. The message names the file and says what to do."""


# -- saving ------------------------------------------------------------------------------------------
def save(model: Module, path: PathLike, metadata: Mapping[str, Any] | None = None) -> Path:
    """Write ``model``'s parameters and architecture to ``path`` (a safetensors file); returns the path.

    ``metadata`` (a dict of str to plain JSON: numbers, strings, lists, dicts) is stored alongside and
    given back by ``read_metadata(path)``. An existing file at ``path`` is replaced atomically.
    Raises ValueError for a built-in model that ``load`` could not rebuild as it is (an MLP layer mixing
    activations, weights shared between different layers), TypeError for something that is not a model.
    """
    safetensors_numpy = _safetensors_numpy()  # before any work: say what to install first
    if not isinstance(model, Module):
        raise TypeError(f"save: expected a model (a chainrule Module), got {type(model).__name__}")
    target = _target(path)
    header = {
        "format": FORMAT,
        "chainrule.format_version": str(FORMAT_VERSION),
        "chainrule.version": _version(),
    }
    if metadata is not None:
        header["chainrule.metadata"] = _metadata_json(metadata)
    state = model.state_dict()
    for name, array in state.items():
        if array.dtype.name not in DTYPES:
            raise ValueError(f"save: parameter {name!r} is {array.dtype.name}; a model file holds {', '.join(DTYPES)}")
    architecture = _architecture(model)
    if architecture["type"] != "custom":
        _check_rebuilds(model, architecture, state)
    header["chainrule.architecture"] = json.dumps(architecture, separators=(",", ":"))
    # safetensors copies each array's memory as it lies: an array in Fortran order (a transposed weight)
    # would be written scrambled, so every one is made C-contiguous first (np.ascontiguousarray would
    # also turn a Value's 0-d array into shape (1,)).
    tensors = {name: a if a.flags.c_contiguous else a.copy(order="C") for name, a in state.items()}
    _write_atomically(target, safetensors_numpy.save(tensors, metadata=header))
    return target


def require_safetensors() -> None:
    """Raise ImportError, saying what to install, if the safetensors package is missing."""
    _safetensors_numpy()


def _safetensors_numpy():
    try:
        import safetensors.numpy
    except ImportError:
        raise ImportError(
            f"saving and loading models needs the safetensors package, which is not installed; {INSTALL_HINT}"
        ) from None
    return safetensors.numpy


def _version() -> str:
    from chainrule import __version__

    return __version__


def _as_path(path: PathLike, where: str) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{where}: path must be a str or a pathlib.Path, got {type(path).__name__}")
    return Path(os.fspath(path))


def _target(path: PathLike) -> Path:
    """Where ``save`` writes, checked before the model is serialized: a file name in a folder that exists."""
    target = _as_path(path, "save")
    if target.is_dir():
        raise IsADirectoryError(f"save: {target} is a folder; give a file name, e.g. {target / 'model.safetensors'}")
    folder = target.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"save: cannot write {target}: the folder {folder} does not exist")
    return target


def _metadata_json(metadata: Mapping[str, Any]) -> str:
    """``metadata`` as JSON text, checked to read back as the same dict."""
    if not isinstance(metadata, Mapping):
        raise TypeError(f"save: metadata must be a dict of str to JSON values, got {type(metadata).__name__}")
    metadata = dict(metadata)
    bad_keys = [key for key in metadata if not isinstance(key, str)]
    if bad_keys:
        raise TypeError(f"save: metadata keys must be strings, got {bad_keys[0]!r}")
    try:
        text = json.dumps(metadata, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise TypeError(f"save: metadata must hold plain JSON (numbers, strings, lists, dicts): {error}") from None
    # JSON turns a tuple into a list and an int key into a string: refused, so read_metadata gives back
    # exactly the dict that was saved.
    if json.loads(text) != metadata:
        raise TypeError("save: metadata must read back unchanged from JSON: use lists, not tuples, and str dict keys")
    return text


def _write_all(handle, data: bytes) -> None:
    view = memoryview(data)
    for start in range(0, len(view), _CHUNK_BYTES):
        handle.write(view[start : start + _CHUNK_BYTES])


def _write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` so that it holds either its old contents or all of ``data``, never part.

    The temporary file is in the same folder, so the final rename stays on one file system (where it is
    atomic); it is flushed and fsync'ed before the rename, so a crash right after cannot leave the new
    name pointing at data still in the page cache."""
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    # 0o666 less the umask, as a plain open() would create it (tempfile's files are 0o600).
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            _write_all(handle, data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    _fsync_folder(target.parent)


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself durable on POSIX; Windows cannot open a folder, and needs no such step.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- the architecture record --------------------------------------------------------------------------
_ACTIVATION_LAYERS = ("ReLU", "Tanh", "Sigmoid", "Identity")


class _NotBuiltIn(Exception):
    """Inside ``_describe``: a module (at ``name``) of a class that ``load`` does not rebuild."""

    def __init__(self, name: str, module: Module):
        super().__init__(name)
        self.name, self.module = name, module


def _class_name(obj) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _architecture(model: Module) -> dict:
    """How to rebuild ``model``: a JSON-ready dict, ``{"type": "custom", ...}`` for classes of your own."""
    try:
        return _describe(model, "", {})
    except _NotBuiltIn as part:
        record = {"type": "custom", "class": _class_name(model)}
        if part.module is not model:
            record["contains"] = {"name": part.name, "class": _class_name(part.module)}
        return record


def _describe(module, name: str, seen: dict) -> dict:
    from chainrule.nn import layers
    from chainrule.nn.mlp import MLP

    # Exact classes only: a subclass may compute something else in forward, which no record can say.
    kind = type(module)
    if kind is MLP:
        return _describe_mlp(module, name)
    if kind is layers.Linear:
        return {
            "type": "Linear",
            "nin": module.nin,
            "nout": module.nout,
            "bias": module.bias is not None,
            "dtype": module.weight.dtype.name,
        }
    if kind.__name__ in _ACTIVATION_LAYERS and kind is getattr(layers, kind.__name__):
        return {"type": kind.__name__}
    if kind is layers.Sequential:
        seen[id(module)] = name
        entries = []
        for i, layer in enumerate(module.layers):
            path = f"{name}.{i}" if name else str(i)
            if id(layer) in seen:
                # The same layer object again (Sequential(lin, Tanh(), lin)): one layer, rebuilt shared.
                entries.append({"same_as": seen[id(layer)]})
            else:
                seen[id(layer)] = path
                entries.append(_describe(layer, path, seen))
        return {"type": "Sequential", "layers": entries}
    raise _NotBuiltIn(name, module)


def _describe_mlp(model, name: str) -> dict:
    from chainrule.nn.mlp import Layer, Neuron

    if not model.layers or any(type(layer) is not Layer or not layer.neurons for layer in model.layers):
        raise _NotBuiltIn(name, model)
    sizes, activations = [], []
    for i, layer in enumerate(model.layers):
        if any(type(neuron) is not Neuron for neuron in layer.neurons):
            raise _NotBuiltIn(name, model)
        kinds = sorted({neuron.activation for neuron in layer.neurons})
        if len(kinds) != 1:
            raise ValueError(
                f"save: layer {i} of the MLP mixes activations ({', '.join(kinds)}); chainrule.load rebuilds "
                "MLPs whose layers each use one activation, as MLP(...) builds them"
            )
        sizes.append(len(layer.neurons))
        activations.append(kinds[0])
    return {"type": "MLP", "nin": len(model.layers[0].neurons[0].w), "sizes": sizes, "activations": activations}


def _check_rebuilds(model: Module, architecture: dict, state: dict) -> None:
    """Build the model the record describes and check it has the same parameters (names, shapes,
    dtypes): what ``save`` writes, ``load`` can read back. Fails for weights resized by hand, or one
    weight shared by two different layers (a record of layers cannot say that)."""
    try:
        rebuilt = _build(architecture).state_dict()
    except _BadRecord as error:  # a Sequential that contains itself, say
        raise ValueError(f"save: chainrule.load could not rebuild this {type(model).__name__}: {error}") from None
    problems = [f"{name!r} is missing from the rebuilt model" for name in state if name not in rebuilt]
    problems += [f"the rebuilt model has {name!r}, which this one lacks" for name in rebuilt if name not in state]
    problems += [
        f"{name!r} is {state[name].dtype.name} {state[name].shape}, rebuilt {rebuilt[name].dtype.name} "
        f"{rebuilt[name].shape}"
        for name in state
        if name in rebuilt and (state[name].shape, state[name].dtype) != (rebuilt[name].shape, rebuilt[name].dtype)
    ]
    if problems:
        raise ValueError(
            f"save: this {type(model).__name__} differs from the {architecture['type']} its layers describe, so "
            f"chainrule.load could not rebuild it: {'; '.join(problems[:5])}"
            + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        )


class _BadRecord(Exception):
    """An architecture record that does not describe a model chainrule builds."""


def _int(record: dict, key: str) -> int:
    value = record.get(key)
    if type(value) is not int or value < 1:
        raise _BadRecord(f"{record.get('type')} needs {key!r} a positive whole number, got {value!r}")
    return value


def _build(record, name: str = "", built: dict | None = None) -> Module:
    """The model an architecture record describes, with fresh weights (``load`` then fills them in).

    Draws from private generators, never ``random`` or ``np.random``: loading a model does not change
    what a user's seeded run draws next."""
    built = {} if built is None else built
    if not isinstance(record, dict):
        raise _BadRecord(f"expected an object, got {record!r}")
    kind = record.get("type")
    if kind == "MLP":
        from chainrule.nn.mlp import ACTIVATIONS, MLP

        nin, sizes, activations = _int(record, "nin"), record.get("sizes"), record.get("activations")
        if not isinstance(sizes, list) or not sizes or any(type(n) is not int or n < 1 for n in sizes):
            raise _BadRecord(f"MLP needs 'sizes' a list of positive whole numbers, got {sizes!r}")
        if not isinstance(activations, list) or len(activations) != len(sizes):
            raise _BadRecord(f"MLP needs one activation per layer, got {activations!r}")
        if any(a not in ACTIVATIONS for a in activations):
            raise _BadRecord(f"MLP activations must be among {', '.join(ACTIVATIONS)}, got {activations!r}")
        model = MLP(nin, sizes, rng=random.Random(0))
        for layer, activation in zip(model.layers, activations):
            for neuron in layer.neurons:
                neuron.activation = activation
    elif kind == "Linear":
        from chainrule.nn.layers import Linear

        dtype, bias = record.get("dtype"), record.get("bias")
        if dtype not in DTYPES:
            raise _BadRecord(f"Linear dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        if not isinstance(bias, bool):
            raise _BadRecord(f"Linear needs 'bias' true or false, got {bias!r}")
        model = Linear(_int(record, "nin"), _int(record, "nout"), bias=bias, rng=0, dtype=dtype)
    elif kind in _ACTIVATION_LAYERS:
        from chainrule.nn import layers

        model = getattr(layers, kind)()
    elif kind == "Sequential":
        from chainrule.nn.layers import Sequential

        entries = record.get("layers")
        if not isinstance(entries, list):
            raise _BadRecord(f"Sequential needs a list of 'layers', got {entries!r}")
        children = []
        for i, entry in enumerate(entries):
            path = f"{name}.{i}" if name else str(i)
            if isinstance(entry, dict) and "same_as" in entry:
                if entry["same_as"] not in built:
                    raise _BadRecord(f"layer {path} is the same as {entry['same_as']!r}, which comes before it")
                children.append(built[entry["same_as"]])
            else:
                children.append(_build(entry, path, built))
                built[path] = children[-1]
        model = Sequential(*children)
    else:
        raise _BadRecord(f"unknown layer type {kind!r}")
    return model


def _parameter_count(record) -> int:
    """How many numbers the recorded model holds: checked against the file before anything is built, so
    that a record edited to say Linear(10**9, 10**9) cannot make ``load`` allocate it."""
    if not isinstance(record, dict):
        raise _BadRecord(f"expected an object, got {record!r}")
    kind = record.get("type")
    if kind == "MLP":
        sizes = record.get("sizes")
        if not isinstance(sizes, list) or any(type(n) is not int for n in sizes):
            raise _BadRecord(f"MLP needs 'sizes' a list of positive whole numbers, got {sizes!r}")
        widths = [_int(record, "nin"), *sizes]
        return sum((a + 1) * b for a, b in zip(widths, widths[1:]))
    if kind == "Linear":
        return _int(record, "nin") * _int(record, "nout") + (_int(record, "nout") if record.get("bias") else 0)
    if kind == "Sequential":
        if not isinstance(record.get("layers"), list):
            raise _BadRecord(f"Sequential needs a list of 'layers', got {record.get('layers')!r}")
        return sum(
            0 if isinstance(entry, dict) and "same_as" in entry else _parameter_count(entry)
            for entry in record["layers"]
        )
    if kind in _ACTIVATION_LAYERS:
        return 0
    raise _BadRecord(f"unknown layer type {kind!r}")


# -- loading -----------------------------------------------------------------------------------------
def load(path: PathLike) -> Module:
    """The model saved at ``path`` by ``chainrule.save``: rebuilt (MLP, Linear, Sequential) and filled in.

    Raises ``ModelFileError`` (a ValueError) naming the file if it is not a safetensors file (a pickle,
    a ``torch.save`` archive, an empty, truncated or garbled file), was not written by ``chainrule.save``,
    or holds a model class of your own (build it, then use ``chainrule.load_state_dict(path)``);
    FileNotFoundError if there is no such file.
    """
    _safetensors_numpy()  # say what to install before anything else
    path = _as_path(path, "load")
    record = _record(path, _read_header(path))
    if record["type"] == "custom":
        inside = record.get("contains")
        what = (
            f"a {record.get('class')} containing a {inside.get('class')} (at {inside.get('name')!r})"
            if isinstance(inside, dict)
            else f"a {record.get('class')}"
        )
        raise ModelFileError(
            f"{path}: holds {what}, a model class chainrule does not rebuild by itself (that would mean "
            f"running code the file names); build the model, then call "
            f"model.load_state_dict(chainrule.load_state_dict({str(path)!r}))"
        )
    _, arrays = _read(path)
    total = sum(int(a.size) for a in arrays.values())
    try:
        expected = _parameter_count(record)
        if expected != total:
            raise _BadRecord(f"it describes {expected:,} numbers but the file holds {total:,}")
        model = _build(record)
    except _BadRecord as error:
        raise ModelFileError(f"{path}: its architecture record is not one chainrule can rebuild: {error}") from None
    try:
        model.load_state_dict(arrays)
    except ValueError as error:
        raise ModelFileError(f"{path}: the arrays do not fit the recorded architecture: {error}") from None
    return model


def read_architecture(path: PathLike) -> dict:
    """The architecture record ``save`` wrote into the file: what ``load`` builds (``{"type": "MLP", "nin": 2,
    "sizes": [16, 16, 1], ...}``), or ``{"type": "custom", "class": ...}`` for a model class of your own.

    Reads the header only. Raises ``ModelFileError`` if the file was not written by ``chainrule.save``."""
    path = _as_path(path, "read_architecture")
    return _record(path, _read_header(path))


def _record(path: Path, metadata: dict) -> dict:
    """The file's architecture record, checked to be one this chainrule reads."""
    text = metadata.get("chainrule.architecture")
    if text is None:
        raise ModelFileError(
            f"{path}: not a chainrule model file: its metadata has no 'chainrule.architecture' (it was not "
            "written by chainrule.save); its arrays, by name: chainrule.load_state_dict(path)"
        )
    version = metadata.get("chainrule.format_version", "1")
    if not version.isdigit() or int(version) > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: written in chainrule's file format {version!r} (by chainrule "
            f"{metadata.get('chainrule.version', '?')}); this chainrule {_version()} reads format "
            f"{FORMAT_VERSION}: upgrade chainrule"
        )
    try:
        record = json.loads(text)
    except ValueError:
        record = None
    if not isinstance(record, dict) or not isinstance(record.get("type"), str):
        raise ModelFileError(f"{path}: its 'chainrule.architecture' entry is not a JSON record; the file is damaged")
    return record


def load_state_dict(path: PathLike) -> dict:
    """The arrays saved at ``path``, by name (NumPy arrays, as ``model.state_dict()`` gives them):
    for ``model.load_state_dict(chainrule.load_state_dict(path))`` into a model you built.

    Reads any safetensors file; raises ``ModelFileError`` naming the file for anything else."""
    path = _as_path(path, "load_state_dict")
    return _read(path)[1]


def read_metadata(path: PathLike) -> dict:
    """The ``metadata`` dict given to ``save`` for the file at ``path`` (``{}`` if none was given)."""
    path = _as_path(path, "read_metadata")
    metadata = _read_header(path)
    text = metadata.get("chainrule.metadata")
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ModelFileError(f"{path}: its 'chainrule.metadata' entry is not a JSON object; the file is damaged")
    return value


def _read(path: Path) -> tuple[dict, dict]:
    """The file's metadata (str to str) and its arrays (name to a NumPy array of its own)."""
    _safetensors_numpy()  # ImportError naming what to install
    import numpy as np
    from safetensors import SafetensorError, safe_open

    metadata = _read_header(path)
    try:
        with safe_open(os.fspath(path), framework="numpy") as handle:
            # Copies: the arrays safetensors hands out are views of the bytes it read.
            arrays = {name: np.array(handle.get_tensor(name), copy=True) for name in handle.keys()}
    except (SafetensorError, TypeError, ValueError) as error:  # TypeError: a dtype NumPy lacks (bfloat16)
        raise ModelFileError(f"{path}: not a valid safetensors file: {error}") from None
    return metadata, arrays


def _read_header(path: Path) -> dict:
    """Check that ``path`` is a whole safetensors file and return its metadata, reading only the header.

    safetensors checks all of this too; checking here first gives messages that say what the file is
    instead (a pickle, a zip, a truncated copy), and reads no more than the header of a file that is not
    a model at all. Needs only the standard library."""
    if path.is_dir():
        raise ModelFileError(f"{path}: is a folder, not a model file")
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    with handle:
        size = os.fstat(handle.fileno()).st_size
        start = handle.read(8)
        if size == 0:
            raise ModelFileError(f"{path}: the file is empty, not a safetensors model file (an interrupted copy?)")
        length = int.from_bytes(start, "little") if len(start) == 8 else -1
        first = handle.read(1) if 0 < length <= MAX_HEADER_BYTES else b""
        if first != b"{":
            # Not a safetensors header: say what it looks like instead.
            handle.seek(0)
            raise ModelFileError(_not_safetensors(path, handle.read(16), size))
        if length > size - 8:
            raise ModelFileError(
                f"{path}: the file is truncated: it ends inside its header ({size:,} bytes; the header alone "
                f"should be {length:,}); an interrupted copy or download?"
            )
        text = first + handle.read(length - 1)
    try:
        header = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        header = None
    if not isinstance(header, dict):
        raise ModelFileError(f"{path}: not a safetensors file: its header is not a JSON object (the file is damaged)")
    end = 0
    for name, entry in header.items():
        offsets = entry.get("data_offsets") if isinstance(entry, dict) and name != "__metadata__" else None
        if isinstance(offsets, list) and len(offsets) == 2 and all(type(o) is int for o in offsets):
            end = max(end, offsets[1])
    if 8 + length + end > size:
        raise ModelFileError(
            f"{path}: the file is truncated: its header describes {8 + length + end:,} bytes but it has {size:,} "
            "(an interrupted copy or download?)"
        )
    metadata = header.get("__metadata__") or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ModelFileError(f"{path}: not a valid safetensors file: its metadata is not a map of strings")
    return metadata


def _not_safetensors(path: Path, start: bytes, size: int) -> str:
    never = "chainrule loads safetensors files only and never unpickles anything (a pickle can run any code)"
    if len(start) >= 2 and start[0] == 0x80 and 2 <= start[1] <= 5:
        return f"{path}: not a safetensors file: it looks like a Python pickle (what pickle.dump writes); {never}"
    if start.startswith(b"PK\x03\x04"):
        return (
            f"{path}: not a safetensors file: it looks like a zip archive (what torch.save and numpy.savez write; "
            f"torch.save's holds a pickle); {never}"
        )
    if start.startswith(b"\x93NUMPY"):
        return f"{path}: not a safetensors file: it is a NumPy .npy file; chainrule loads safetensors files only"
    if size < 9:
        return f"{path}: not a safetensors file, or a truncated one: it is only {size} bytes long"
    return f"{path}: not a safetensors file: its first bytes are not a safetensors header"
