"""Files: written atomically, read without pickle, and output locations checked before any work.

A file is written to a temporary file in the same folder (``.NAME.XXXX.tmp``) and renamed into place, so a
process killed at any moment leaves either the old file or the new one, never half of one; the temporary files a
killed process leaves are removed by :func:`remove_stale_temps` when the next run in that folder starts. Inputs
are read with :func:`read_npy` and :func:`read_npz`, which never unpickle and turn every way a file can be damaged
into a ``ValueError`` naming it; outputs are checked with :func:`check_output_file` and
:func:`check_output_dir` before any training or scoring starts.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
import zlib
from pathlib import Path
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "atomic_write", "write_json", "remove_stale_temps", "check_input_file", "check_output_file", "check_output_dir",
    "read_npy", "read_npz", "read_record", "write_record", "write_npy", "atomic_write_npy", "sidecar_path",
    "read_sidecar",
]

_TEMP_SUFFIX = ".tmp"
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, KeyError, OSError)
"""What NumPy raises on a truncated or damaged file (a folder or a missing file is checked before)."""


def atomic_write(path: str | Path, write: Callable[[str], object]) -> None:
    """Call ``write(tmp_path)`` then rename the temporary file onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=_TEMP_SUFFIX)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_npy(path: str | Path, array: np.ndarray) -> None:
    """``array`` saved as ``.npy`` at exactly ``path`` (``np.save`` on a path would append ".npy"), without pickle."""
    with open(path, "wb") as f:
        np.save(f, array, allow_pickle=False)


def atomic_write_npy(path: str | Path, array: np.ndarray) -> None:
    """:func:`write_npy` through :func:`atomic_write`: ``path`` holds the old file or the whole new one."""
    atomic_write(path, lambda tmp: write_npy(tmp, array))


def sidecar_path(path: str | Path) -> Path:
    """The JSON description beside an array file: ``name.npy`` -> ``name.npy.json``."""
    path = Path(path)
    return path.with_name(path.name + ".json")


def read_sidecar(path: str | Path, format_name: str, what: str) -> dict[str, Any]:
    """The JSON description beside ``path`` ({} when there is none); ``ValueError`` when it is not valid JSON or its
    ``"format"`` is not ``format_name`` (``what``: "subset", "embedding", ... for the message)."""
    sidecar = sidecar_path(path)
    if not sidecar.is_file():
        return {}
    try:
        description = json.loads(sidecar.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{sidecar} is not valid JSON: {error}") from None
    if not isinstance(description, dict) or description.get("format") != format_name:
        raise ValueError(f"{sidecar} is not a datadiet {what} description (expected \"format\": \"{format_name}\")")
    return description


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: str | Path, value: Any) -> None:
    """Write ``value`` as indented JSON, atomically."""
    text = json.dumps(value, indent=2, sort_keys=True, default=str) + "\n"
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def remove_stale_temps(folder: str | Path) -> list[Path]:
    """Remove the temporary files :func:`atomic_write` left in ``folder`` (not below it) when a process was
    killed while writing; returns them. Call it only when no other process writes into ``folder``."""
    folder = Path(folder)
    stale = [p for p in folder.glob(f".*{_TEMP_SUFFIX}") if p.is_file()] if folder.is_dir() else []
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def check_input_file(path: str | os.PathLike, what: str) -> Path:
    """``path`` as a ``Path`` if it is a file; ``FileNotFoundError`` if it does not exist, ``ValueError`` if it
    is a folder or something else. ``what`` names it in the message, e.g. ``"score file"``."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{what} {path} is a folder, not a file")
    if not path.exists():
        raise FileNotFoundError(f"{what} {path} does not exist")
    if not path.is_file():
        raise ValueError(f"{what} {path} is not a regular file")
    return path


def check_output_file(path: str | Path, what: str = "--out") -> Path:
    """Raise ``ValueError`` unless a file can be written at ``path``: not a folder, and its folder (or the first
    existing folder above it) is a writable folder. Nothing is created."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{what} {path} is a folder; give a file name")
    if path.exists() and not path.is_file():
        raise ValueError(f"{what} {path} exists and is not a regular file")
    _check_writable_above(path, what)
    return path


def check_output_dir(path: str | Path, what: str = "--out") -> Path:
    """Raise ``ValueError`` unless ``path`` is a writable folder or one can be made there. Nothing is created."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{what} {path} is a file, not a folder; give a folder")
    if path.is_dir():
        _probe(path, path, what)
    else:
        _check_writable_above(path, what)
    return path


def _check_writable_above(path: Path, what: str) -> None:
    """The nearest existing folder above ``path`` must be a folder (not a file) that accepts a new file."""
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"cannot write {what} {path}: {parent} is a file, not a folder")
    _probe(parent, path, what)


def _probe(folder: Path, path: Path, what: str) -> None:
    """Create and remove a temporary file in ``folder`` (permission bits do not tell for root or read-only
    mounts)."""
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".datadiet-probe.", suffix=_TEMP_SUFFIX)
    except OSError as error:
        raise ValueError(f"cannot write {what} {path}: {folder} is not writable ({error.strerror})") from None
    os.close(fd)
    os.unlink(tmp)


def _signature(path: Path, what: str) -> bytes:
    """The first bytes of ``path`` (after checking it is a file)."""
    check_input_file(path, what)
    with open(path, "rb") as f:
        return f.read(len(_NPY_MAGIC))


def read_npy(path: str | Path, what: str = "file") -> np.ndarray:
    """The array of a ``.npy`` file, loaded without pickle; ``ValueError`` naming ``path`` if it is not one."""
    path = Path(path)
    head = _signature(path, what)
    if not head.startswith(_NPY_MAGIC):
        raise ValueError(f"cannot read {what} {path}: it is {_kind(head)}, not a NumPy .npy file")
    try:
        return np.load(path, allow_pickle=False)
    except _DAMAGED as error:
        raise ValueError(f"cannot read {what} {path}: {_reason(error, '.npy')}") from None


def read_npz(path: str | Path, what: str = "file") -> dict[str, np.ndarray]:
    """Every array of a ``.npz`` file, loaded without pickle; ``ValueError`` naming ``path`` if it is not one
    (not a zip archive, truncated, a member that is not an array or needs pickle)."""
    path = Path(path)
    head = _signature(path, what)
    if not head.startswith(_ZIP_MAGIC):
        raise ValueError(f"cannot read {what} {path}: it is {_kind(head)}, not a NumPy .npz file")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except _DAMAGED as error:
        raise ValueError(f"cannot read {what} {path}: {_reason(error, '.npz')}") from None
    others = [name for name, value in arrays.items() if not isinstance(value, np.ndarray)]
    if others:
        raise ValueError(f"cannot read {what} {path}: its members {others} are not NumPy arrays")
    return arrays


def write_record(path: str | os.PathLike, arrays: dict[str, np.ndarray], metadata: dict[str, Any], what: str) -> Path:
    """Write ``arrays`` and a JSON ``metadata`` record (the array ``metadata``) to a ``.npz`` file atomically.

    ``path`` must end in ``.npz``; ``what`` names the kind of file in the error (e.g. ``"score files"``).
    """
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"{what} are .npz files; got {path.name!r}")
    members = {**arrays, "metadata": np.array(json.dumps(metadata, sort_keys=True))}

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, **members)  # type: ignore[arg-type]  # numpy's stub checks **kwds against allow_pickle

    atomic_write(path, write)
    return path


def read_record(path: str | Path, what: str, format_name: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The arrays and the JSON metadata of a file :func:`write_record` wrote, its ``format`` checked and removed.

    Raises ``ValueError`` naming ``path`` if it is no such file (see :func:`read_npz`), has no valid metadata, or
    its metadata's ``format`` is not ``format_name``.
    """
    arrays = read_npz(path, what)
    try:
        meta = json.loads(str(arrays.pop("metadata")))
    except (ValueError, KeyError) as error:
        raise ValueError(f"cannot read {path} as a {what}: no valid metadata ({error})") from None
    if not isinstance(meta, dict) or meta.pop("format", None) != format_name:
        raise ValueError(f"{path} is not a datadiet {what} (metadata format is not {format_name!r})")
    return arrays, meta


def _kind(head: bytes) -> str:
    """What a file that starts with ``head`` is, as far as NumPy files go."""
    if not head:
        return "empty"
    if head.startswith(_NPY_MAGIC):
        return "a single .npy array"
    if head.startswith(_ZIP_MAGIC):
        return "a zip archive (.npz or torch file)"
    return "neither .npy nor .npz data (text, a pickle, or other bytes)"


def _reason(error: BaseException, kind: str) -> str:
    """Why a NumPy file of ``kind`` could not be read, in one line."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    if "allow_pickle" in text or "pickled data" in text:
        return "it holds Python objects, and datadiet reads files without pickle"
    return f"it is a damaged or truncated {kind} file ({text})"
