"""Official download locations and md5 checksums, and a verified downloader.

``SOURCES`` maps a dataset name to where its files live and what their md5 sums are. It is a plain module-level
dict: point an entry at a mirror (or a local server in tests) by replacing it. Files found on disk are checked
against the same sums, so a corrupt or truncated copy is reported instead of silently parsed.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["IDX_FILES", "SOURCES", "Source", "md5sum", "check_md5", "download_file", "fetch"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    """Where a dataset's files come from.

    Attributes:
        base_url: URL prefix; a file's URL is ``base_url + file name``.
        files: file name -> md5 of the files served at ``base_url``.
        members: file name -> md5 of files extracted from an archive in ``files`` (checked when found).
    """

    base_url: str
    files: Mapping[str, str]
    members: Mapping[str, str] = field(default_factory=dict)


IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
"""Official file names (images, labels) of each split of an IDX dataset."""


def _idx(train_images: str, train_labels: str, test_images: str, test_labels: str) -> dict[str, str]:
    names = (*IDX_FILES["train"], *IDX_FILES["test"])
    return dict(zip(names, (train_images, train_labels, test_images, test_labels)))


SOURCES: dict[str, Source] = {
    "mnist": Source(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        _idx("f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
             "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c"),
    ),
    "fashion-mnist": Source(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        _idx("8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
             "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"),
    ),
    "kmnist": Source(
        "http://codh.rois.ac.jp/kmnist/dataset/kmnist/",
        _idx("bdb82020997e1d708af4cf47b453dcf7", "e144d726b3acfaa3e44228e80efcd344",
             "5c965bf0a639b31b8f53240b1b52f4d7", "7320c461ea6c1c855c0b718fb2a4b134"),
    ),
    "cifar10": Source(
        "https://www.cs.toronto.edu/~kriz/",
        {"cifar-10-python.tar.gz": "c58f30108f718f92721af3b95e74349a"},
        {"data_batch_1": "c99cafc152244af753f735de768cd75f", "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
         "data_batch_3": "54ebc095f3ab1f0389bbae665268c751", "data_batch_4": "634d18415352ddfa80567beed471001a",
         "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb", "test_batch": "40351d587109b95175f43aff81a1287e"},
    ),
    "cifar100": Source(
        "https://www.cs.toronto.edu/~kriz/",
        {"cifar-100-python.tar.gz": "eb9058c3a382ffc7106e4002c42a8d85"},
        {"train": "16019d7e3df5f24257cddd939b257f8d", "test": "f0ef6b0ae62326f3e7ffdfab6717acfc"},
    ),
    "cinic10": Source(
        "https://datashare.ed.ac.uk/bitstream/handle/10283/3192/",
        {"CINIC-10.tar.gz": "6ee4d0c996905fe93221de577967a372"},
    ),
}


def md5sum(path: Path, chunk: int = 1 << 20) -> str:
    """Hex md5 digest of a file."""
    h = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def check_md5(path: Path, expected: str) -> None:
    """Raise ``ValueError`` if ``path``'s md5 is not ``expected``."""
    actual = md5sum(path)
    if actual != expected:
        raise ValueError(
            f"{path} is corrupt or not the official file: md5 {actual}, expected {expected}. "
            "Delete it and load again with download=True (CLI: --download)."
        )


def download_file(url: str, dest: Path, md5: str, *, progress: bool = True, timeout: float = 60.0) -> Path:
    """Stream ``url`` to a temporary file next to ``dest``, verify its md5, then rename it to ``dest``.

    A checksum mismatch raises ``ValueError`` (expected and actual md5) and leaves no partial file behind.
    """
    from tqdm.auto import tqdm

    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        h = hashlib.md5()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            size = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=size, unit="B", unit_scale=True, desc=dest.name, disable=not progress) as bar:
                while block := response.read(1 << 20):
                    out.write(block)
                    h.update(block)
                    bar.update(len(block))
        if h.hexdigest() != md5:
            raise ValueError(
                f"{dest.name} downloaded from {url} has md5 {h.hexdigest()}, expected {md5}; the file was deleted"
            )
        os.replace(tmp, dest)
        _log.info("downloaded %s from %s (md5 verified)", dest, url)
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError) as err:
        raise ConnectionError(f"could not download {url}: {getattr(err, 'reason', err)}") from err
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def fetch(name: str, directory: Path, *, download: bool, sources: Mapping[str, Source] = SOURCES) -> list[Path]:
    """Paths of dataset ``name``'s files in ``directory``, md5-checked; missing ones are downloaded if allowed.

    Raises ``FileNotFoundError`` naming the missing files, the directory and the URL when ``download`` is False.
    """
    source = sources[name]
    paths = [directory / file for file in source.files]
    missing = [p.name for p in paths if not p.is_file()]
    if missing and not download:
        raise FileNotFoundError(
            f"{name}: missing {', '.join(missing)} in {directory}. Pass download=True (CLI: --download) to "
            f"fetch {'it' if len(missing) == 1 else 'them'} from {source.base_url}"
        )
    for path, md5 in zip(paths, source.files.values()):
        if path.name in missing:
            download_file(source.base_url + path.name, path, md5)
        else:
            check_md5(path, md5)
    return paths
