"""``save``, ``load``, ``load_state_dict``, ``read_metadata``, ``read_architecture``: a model to a file and back.

Built on ``files`` (the safetensors file) and ``architecture`` (the record of how to rebuild a model);
this module adds chainrule's header entries (``format``, ``chainrule.format_version``,
``chainrule.version``, ``chainrule.architecture``, ``chainrule.metadata``) and checks them on the way back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chainrule.nn.module import Module
from chainrule.serialization.architecture import (
    _architecture,
    _BadRecord,
    _build,
    _check_rebuilds,
    _parameter_count,
)
from chainrule.serialization.files import (
    DTYPES,
    ModelFileError,
    PathLike,
    _as_path,
    _read,
    _read_header,
    _safetensors_numpy,
    _target,
    _write_atomically,
)

FORMAT = "chainrule"
FORMAT_VERSION = 1


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


def _version() -> str:
    from chainrule import __version__

    return __version__


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
