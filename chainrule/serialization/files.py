"""The safetensors file itself: where ``save`` may write, writing it atomically, and reading it back.

Writing goes to a temporary file in the target's folder, fsync'ed, then renamed over the target
(``_write_atomically``). Reading checks the header with the standard library before safetensors opens
the file (``_read_header``), so a pickle, a zip, a truncated or garbled file is named for what it is and
refused unopened. Nothing here knows what a model is: ``save_load`` adds chainrule's header entries,
``architecture`` the record of how to rebuild a model.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Union

PathLike = Union[str, os.PathLike]

INSTALL_HINT = "pip install safetensors (or pip install 'chainrule[save]')"
# What safetensors and NumPy can both hold; a parameter of another type (float128) cannot be saved.
DTYPES = ("float16", "float32", "float64")
# safetensors refuses headers over 100 MB; a length beyond that is not a safetensors file.
MAX_HEADER_BYTES = 100_000_000
_CHUNK_BYTES = 1 << 24  # written in 16 MiB pieces


class ModelFileError(ValueError):
    """A file that ``chainrule.load`` cannot use: not a safetensors file, damaged, or a model it does not
    rebuild. The message names the file and says what to do."""


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


# -- writing -----------------------------------------------------------------------------------------
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


# -- reading -----------------------------------------------------------------------------------------
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
