"""Fashion-MNIST for the case studies: found on disk, verified, or downloaded; loaded in under 2 s.

``(x_train, y_train), (x_test, y_test) = load_fashion_mnist()`` gives float32 images in [0, 1]
(60,000 and 10,000 of them, flattened to 784 pixels unless ``flatten=False``) and int64 labels;
``CLASSES[y]`` names a label.

Where the files are looked for:

* the ``root`` argument, if given, and nothing else: a ``root`` that does not exist, is not a
  directory or lacks a file raises :class:`DataError` naming it (the loader never silently trains on
  files from somewhere else than where it was told to look);
* else ``$OPTLIB_DATA``, if set, and nothing else, with the same rule;
* else the first of these holding all four files: the per-user cache,
  ``$XDG_CACHE_HOME/optlib/fashion-mnist`` (default ``~/.cache/optlib/fashion-mnist``), then
  ``/usr/share/datasets/fashion-mnist`` (Debian/Ubuntu: ``apt-get install dataset-fashion-mnist``).
  If neither has them and ``download=True``, they are downloaded from the official mirror into the cache.

Every file is checked against the SHA-256 of its *decompressed* content (gzip bytes differ from one
packager to another, the content does not), so a truncated or damaged copy raises :class:`DataError`
instead of training on garbage. Every failure of the loader (missing, damaged, unreadable or
unwritable files, an interrupted download) is a :class:`DataError` that says how to fix it; bad
arguments are ``TypeError``. Results are kept in memory: a second call in the same process is instant.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import tempfile
import urllib.request
import warnings
import zlib
from pathlib import Path
from typing import Union

import numpy as np
import torch

from . import validate

PathLike = Union[str, "os.PathLike[str]"]

CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

MIRROR = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")

# name -> (IDX magic number, expected shape, SHA-256 of the decompressed bytes).
# Digests computed once from Debian's dataset-fashion-mnist files (identical content to the official ones).
FILES = {
    "train-images-idx3-ubyte.gz": (2051, (60000, 28, 28),
                                   "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    "train-labels-idx1-ubyte.gz": (2049, (60000,),
                                   "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    "t10k-images-idx3-ubyte.gz": (2051, (10000, 28, 28),
                                  "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    "t10k-labels-idx1-ubyte.gz": (2049, (10000,),
                                  "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
}

HOW_TO_FIX = ("To get the files: `sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu), "
              "or put the 4 .gz files in a directory and set OPTLIB_DATA=/that/dir, "
              "or call load_fashion_mnist(download=True) on a machine with network access "
              f"(they come from {MIRROR}).")

# The function used to open URLs; tests replace it (monkeypatch) to serve bytes without a network.
urlopen = urllib.request.urlopen

_memory = {}  # (directory, flatten) -> the loaded tensors, so that a second call is instant


class DataError(RuntimeError):
    """A data file is missing, truncated or damaged, or could not be downloaded."""


def cache_dir() -> Path:
    """The per-user directory where downloads go: ``$XDG_CACHE_HOME/optlib/fashion-mnist``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "optlib" / "fashion-mnist"


def _as_path(root: object, name: str = "root") -> Path:
    if not isinstance(root, (str, os.PathLike)) or isinstance(root, bytes):
        raise TypeError(f"{name} must be a path (str or os.PathLike), got {root!r} of type {type(root).__name__}")
    if not str(root):
        raise TypeError(f"{name} must be a path, got the empty string")
    return Path(root).expanduser()


def _chosen(root: PathLike | None) -> tuple[Path, str] | None:
    """The directory the user chose (``root``, else ``$OPTLIB_DATA``) and how, or None."""
    if root is not None:
        return _as_path(root), "root"
    if os.environ.get("OPTLIB_DATA"):
        return Path(os.environ["OPTLIB_DATA"]).expanduser(), "$OPTLIB_DATA"
    return None


def search_path(root: PathLike | None = None) -> list[Path]:
    """The directories looked in, in order (see the module docstring)."""
    chosen = _chosen(root)
    return [chosen[0]] if chosen else [cache_dir(), SYSTEM_DIR]


def _check_chosen(directory: Path, how: str) -> None:
    """Raise DataError unless the chosen `directory` holds all four files (naming what is wrong)."""
    if not directory.exists():
        problem = f"{how} = {directory} does not exist"
    elif not directory.is_dir():
        problem = f"{how} = {directory} is not a directory"
    else:
        missing = [name for name in FILES if not (directory / name).is_file()]
        if not missing:
            return
        problem = f"{how} = {directory} lacks {', '.join(missing)}"
    raise DataError(f"Fashion-MNIST: {problem} (an explicit {how} is the only place looked in). "
                    f"Fix the path, or fetch the files there with optlib.data.download({str(directory)!r}). "
                    + HOW_TO_FIX)


def find(root: PathLike | None = None) -> Path | None:
    """The directory the files are loaded from: ``root`` or ``$OPTLIB_DATA`` if given (DataError if
    they lack a file), else the first of the cache and the system directory that holds all four
    files, or None."""
    chosen = _chosen(root)
    if chosen:
        _check_chosen(*chosen)
        return chosen[0]
    for d in search_path():
        if all((d / name).is_file() for name in FILES):
            return d
    return None


def read_idx(path: PathLike, name: str | None = None) -> np.ndarray:
    """Read, verify and parse one gzipped IDX file; return a uint8 numpy array of the expected shape.

    `name` is the Fashion-MNIST file it must be (default: the file's own name)."""
    path = _as_path(path, "path")
    if (name or path.name) not in FILES:
        raise DataError(f"{path}: {name or path.name!r} is not a Fashion-MNIST file name; expected one of "
                        f"{', '.join(FILES)}")
    magic, shape, digest = FILES[name or path.name]
    try:
        with open(path, "rb") as f:
            raw = gzip.decompress(f.read())
    except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError; truncation is an EOFError
        raise DataError(f"{path} is missing, truncated or not a gzip file ({e}). Delete it and get it again. "
                        + HOW_TO_FIX) from e
    header = 4 + 4 * len(shape)
    found = tuple(int.from_bytes(raw[i:i + 4], "big") for i in range(0, header, 4))
    if len(raw) < header or found != (magic, *shape):
        raise DataError(f"{path} has header {found}, expected magic {magic} and shape {shape}: "
                        f"not the right Fashion-MNIST file. " + HOW_TO_FIX)
    if len(raw) != header + int(np.prod(shape)) or hashlib.sha256(raw).hexdigest() != digest:
        raise DataError(f"{path} is damaged: its content does not match the known SHA-256 "
                        f"{digest[:12]}... Delete it and get it again. " + HOW_TO_FIX)
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape)


def download(directory: PathLike | None = None, progress: bool = True) -> Path:
    """Download the missing files into `directory` (default: :func:`cache_dir`), atomically.

    Each file is written to a temporary file in the same directory, verified, then renamed with
    ``os.replace``: an interrupted or corrupt download never leaves a file under the final name.
    The network is reached through the module attribute ``urlopen`` (tests replace it)."""
    from tqdm.auto import tqdm

    directory = cache_dir() if directory is None else _as_path(directory, "directory")
    progress = validate.flag(progress, "progress", "download")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:  # unwritable cache, a file in the way, ...
        raise DataError(f"could not create the download directory {directory}: {e}. Point XDG_CACHE_HOME at "
                        "a writable directory or pass one. " + HOW_TO_FIX) from e
    for name in FILES:
        if (directory / name).is_file():
            continue
        try:
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".part")
        except OSError as e:
            raise DataError(f"cannot write {name} into {directory}: {e}. Point XDG_CACHE_HOME at a writable "
                            "directory or pass one. " + HOW_TO_FIX) from e
        try:
            with os.fdopen(fd, "wb") as out, urlopen(MIRROR + name, timeout=60) as response:
                total = int(response.headers.get("Content-Length") or 0) or None
                with tqdm(total=total, unit="B", unit_scale=True, desc=name, disable=not progress) as bar:
                    while chunk := response.read(1 << 20):
                        out.write(chunk)
                        bar.update(len(chunk))
            read_idx(tmp, name)  # raises DataError if the bytes are not the right file
            os.replace(tmp, directory / name)  # atomic: the final name only ever holds a verified file
        except (OSError, http.client.HTTPException) as e:  # URLError, HTTPError, timeouts; IncompleteRead
            raise DataError(f"could not download {MIRROR + name} into {directory}: {type(e).__name__}: {e}. "
                            + HOW_TO_FIX) from e
        finally:
            Path(tmp).unlink(missing_ok=True)
    return directory


def load_fashion_mnist(root: PathLike | None = None, download: bool = True, flatten: bool = True
                       ) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """Fashion-MNIST as ``(x_train, y_train), (x_test, y_test)`` torch tensors.

    Images are float32 in [0, 1], shape (N, 784), or (N, 28, 28) with ``flatten=False``; labels are
    int64 in 0..9 (names in :data:`CLASSES`). Files are looked for in `root`, ``$OPTLIB_DATA``, the user
    cache and ``/usr/share/datasets/fashion-mnist``; downloaded to the cache if absent and `download`
    (never into or instead of an explicit `root` or ``$OPTLIB_DATA``, which must hold the files).
    Raises :class:`DataError` (saying how to fix it) rather than return missing or damaged data.

    The tensors are cached in memory and shared between calls: copy them before modifying in place."""
    download = validate.flag(download, "download", "load_fashion_mnist")
    flatten = validate.flag(flatten, "flatten", "load_fashion_mnist")
    directory = find(root)
    if directory is None:
        if not download:
            raise DataError("Fashion-MNIST not found in " + ", ".join(map(str, search_path(root)))
                            + " and download=False. " + HOW_TO_FIX)
        directory = _download(progress=True)
    key = str(directory.resolve())
    if key not in _memory:
        arrays = [read_idx(directory / name) for name in FILES]
        with warnings.catch_warnings():  # the arrays view read-only bytes; .float()/.long() copy them at once
            warnings.simplefilter("ignore", UserWarning)
            xtr, ytr, xte, yte = (torch.from_numpy(a) for a in arrays)
            _memory[key] = (xtr.float().div_(255), ytr.long(), xte.float().div_(255), yte.long())
    xtr, ytr, xte, yte = _memory[key]
    if flatten:  # a view: no copy
        xtr, xte = xtr.reshape(len(xtr), -1), xte.reshape(len(xte), -1)
    return (xtr, ytr), (xte, yte)


_download = download  # load_fashion_mnist's `download` argument shadows the function
