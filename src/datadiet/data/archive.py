"""Find an extracted dataset folder, or extract it safely from its official archive."""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from datadiet.data.download import SOURCES, check_md5, fetch

__all__ = ["safe_extract", "locate_tree"]

_DATA_FILTER: dict[str, Any] = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}


def _check_member(member: tarfile.TarInfo, archive: Path) -> None:
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts:
        raise ValueError(f"{archive}: refusing to extract {member.name!r} (absolute path or '..' component)")
    if not (member.isfile() or member.isdir()):
        raise ValueError(f"{archive}: refusing to extract {member.name!r} (only regular files and folders allowed)")


def safe_extract(archive: Path, dest: Path) -> None:
    """Extract a tar archive into ``dest``, rejecting absolute paths, ``..`` components and links.

    Members are extracted into a temporary folder inside ``dest`` first and moved into place at the end, so an
    interrupted extraction leaves no half-written dataset folder behind.
    """
    with _open_tar(archive) as tar:
        members = _members(tar, archive)
        dest.mkdir(parents=True, exist_ok=True)
        for member in members:
            _check_member(member, archive)
        tmp = Path(tempfile.mkdtemp(dir=dest, prefix=".extract-"))
        try:
            tar.extractall(tmp, members=members, **_DATA_FILTER)
            for entry in tmp.iterdir():
                os.replace(entry, dest / entry.name)
        except (tarfile.TarError, EOFError) as error:
            raise ValueError(f"{archive} is a damaged tar archive ({error}); download it again") from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _open_tar(archive: Path) -> tarfile.TarFile:
    """The tar archive at ``archive``; ``ValueError`` naming it if it is not one."""
    try:
        return tarfile.open(archive)
    except tarfile.TarError as error:
        raise ValueError(f"{archive} is not a tar archive ({error}); expected the dataset's official archive, or "
                         "the folder it extracts to") from None


def _members(tar: tarfile.TarFile, archive: Path) -> list[tarfile.TarInfo]:
    """The archive's members; ``ValueError`` naming it if it is truncated or damaged."""
    try:
        return tar.getmembers()
    except (tarfile.TarError, EOFError, OSError) as error:
        raise ValueError(f"{archive} is a damaged tar archive ({error}); download it again") from None


def _find(root: Path, marker: str, subdir: str) -> Path | None:
    return next((d for d in (root, root / subdir) if (d / marker).exists()), None)


def locate_tree(name: str, data_dir: Path, marker: str, subdir: str, *, download: bool) -> Path:
    """The folder of dataset ``name`` that contains ``marker`` (a file or folder name).

    ``data_dir`` is that folder, its parent (the folder is then ``data_dir / subdir``), or the official archive.
    If the folder is not found, the archive (``data_dir`` itself, or ``data_dir / <archive name>``, downloaded
    if allowed) is md5-checked and extracted next to it.
    """
    source = SOURCES[name]
    archive = data_dir if data_dir.is_file() else None
    root = data_dir.parent if archive else data_dir
    found = _find(root, marker, subdir)
    if found:
        return found
    if archive is None:
        archive = root / next(iter(source.files))
        if not archive.is_file() and not download:
            raise FileNotFoundError(
                f"{name}: found neither {subdir}/ (with {marker}) nor {archive.name} in {root}. "
                f"Pass download=True (CLI: --download) to fetch it from {source.base_url}"
            )
        fetch(name, root, download=download)
    elif archive.name in source.files:
        check_md5(archive, source.files[archive.name])
    safe_extract(archive, root)
    found = _find(root, marker, subdir)
    if found is None:
        raise ValueError(f"{archive} does not contain {marker!r}: it is not the {name} archive")
    return found
