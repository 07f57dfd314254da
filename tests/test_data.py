"""optlib.data: the real files, damaged copies, and the atomic download (served locally: no network here)."""

import functools
import gzip
import http.client
import http.server
import io
import os
import re
import threading
import time
from pathlib import Path

import pytest
import torch

from optlib import data
from optlib.data import CLASSES, FILES, DataError, load_fashion_mnist


def machine_copy():
    """The machine's copy ($OPTLIB_DATA, cache, /usr/share/datasets/fashion-mnist), if any."""
    try:
        return data.find()
    except DataError:
        return None


REAL = machine_copy()


@pytest.fixture
def real_data():
    """These tests are part of the suite: without the files they fail, they are not skipped (CI installs them)."""
    if REAL is None:
        pytest.fail("Fashion-MNIST files absent: apt-get install dataset-fashion-mnist or set OPTLIB_DATA")
    return REAL


needs_real = pytest.mark.usefixtures("real_data")


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No data anywhere on the search path except where a test puts it."""
    monkeypatch.delenv("OPTLIB_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(data, "SYSTEM_DIR", tmp_path / "nowhere")
    return tmp_path


def copy_real(dest, damage=None):
    """Link the real files into `dest`, except `damage`: {name: function(gz bytes) -> bytes} written instead."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        if damage and name in damage:
            content = damage[name]((REAL / name).read_bytes())
            if content is not None:
                (dest / name).write_bytes(content)
        else:
            os.symlink(REAL / name, dest / name)
    return dest


@needs_real
def test_real_data_shapes_dtypes_range_and_counts():
    start = time.perf_counter()
    (x, y), (xt, yt) = load_fashion_mnist()
    assert time.perf_counter() - start < 5  # < 2 s measured on 2 cores; generous for loaded CI machines
    assert x.shape == (60000, 784) and xt.shape == (10000, 784)
    assert x.dtype == xt.dtype == torch.float32 and y.dtype == yt.dtype == torch.int64
    assert x.min() == 0 and x.max() == 1 and xt.min() == 0 and xt.max() == 1
    assert y.bincount().tolist() == [6000] * 10 and yt.bincount().tolist() == [1000] * 10
    assert len(CLASSES) == 10 and CLASSES[9] == "Ankle boot"
    start = time.perf_counter()
    (x2, _), (xt2, _) = load_fashion_mnist(flatten=False)
    assert time.perf_counter() - start < 0.1  # cached in memory
    assert x2.shape == (60000, 28, 28) and xt2.shape == (10000, 28, 28)
    assert torch.equal(x2.reshape(60000, -1), x)


@needs_real
def test_root_comes_first_and_is_verified(isolated):
    root = copy_real(isolated / "mine")
    assert data.find(root) == root
    (x, y), _ = load_fashion_mnist(root, download=False)
    assert x.shape == (60000, 784)


def truncate(gz):
    return gz[: len(gz) // 2]


def flip_a_byte(gz):
    raw = bytearray(gzip.decompress(gz))
    raw[-1] ^= 0xFF  # a pixel/label, not the header: only the checksum can notice
    return gzip.compress(bytes(raw))


def wrong_magic(gz):
    raw = bytearray(gzip.decompress(gz))
    raw[3] = 0x99
    return gzip.compress(bytes(raw))


@needs_real
@pytest.mark.parametrize("name", ["t10k-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte.gz"])
@pytest.mark.parametrize("damage, words", [(truncate, "truncated"), (flip_a_byte, "damaged"),
                                           (wrong_magic, "magic")])
def test_damaged_file_raises_naming_it(isolated, name, damage, words):
    root = copy_real(isolated / "bad", {name: damage})
    with pytest.raises(DataError, match=words) as err:
        load_fashion_mnist(root, download=False)
    assert name in str(err.value) and "apt-get install dataset-fashion-mnist" in str(err.value)


@needs_real
@pytest.mark.parametrize("download", [False, True])
def test_an_explicit_root_is_authoritative(isolated, monkeypatch, download):
    """A root lacking a file, missing or a file raises, naming it, even though the cache has the data."""
    copy_real(data.cache_dir())  # the fallback that used to be taken silently
    monkeypatch.setattr(data, "urlopen", lambda *a, **k: pytest.fail("no download for an explicit root"))
    root = copy_real(isolated / "incomplete", {"t10k-images-idx3-ubyte.gz": lambda gz: None})
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz"):
        data.read_idx(root / "t10k-images-idx3-ubyte.gz")
    for where, words in ((root, "lacks t10k-images-idx3-ubyte.gz"), (isolated / "absent", "does not exist"),
                         (root / "train-labels-idx1-ubyte.gz", "is not a directory")):
        with pytest.raises(DataError) as err:
            load_fashion_mnist(where, download=download)
        message = str(err.value)
        assert f"root = {where} {words}" in message and "apt-get install dataset-fashion-mnist" in message
        with pytest.raises(DataError):
            data.find(where)
    assert data.find() == data.cache_dir()  # without a root, the cache is used


@needs_real
def test_optlib_data_is_authoritative_too(isolated, monkeypatch):
    copy_real(data.cache_dir())
    monkeypatch.setenv("OPTLIB_DATA", str(isolated / "nowhere-at-all"))
    with pytest.raises(DataError, match=r"\$OPTLIB_DATA = .*nowhere-at-all does not exist"):
        load_fashion_mnist()
    root = copy_real(isolated / "mine")
    assert data.find(root) == root  # an explicit root wins over the variable
    monkeypatch.setenv("OPTLIB_DATA", str(root))
    assert data.find() == root and data.search_path() == [root]


BAD_ARGUMENTS = [
    (lambda: load_fashion_mnist(123), "root must be a path (str or os.PathLike), got 123 of type int"),
    (lambda: load_fashion_mnist(""), "root must be a path, got the empty string"),
    (lambda: load_fashion_mnist(download="no"), "load_fashion_mnist: download must be True or False, got 'no'"),
    (lambda: load_fashion_mnist(flatten=None), "load_fashion_mnist: flatten must be True or False, got None"),
    (lambda: data.download(progress="False"), "download: progress must be True or False, got 'False'"),
]


@pytest.mark.parametrize("call, message", BAD_ARGUMENTS, ids=[m for _, m in BAD_ARGUMENTS])  # no addresses in ids
def test_bad_arguments_are_type_errors(call, message):
    with pytest.raises(TypeError, match="^" + re.escape(message)):
        call()


def test_unknown_file_name_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="'x.gz' is not a Fashion-MNIST file name"):
        data.read_idx(tmp_path / "x.gz")


def test_no_files_and_no_network_names_both_ways(isolated, monkeypatch):
    def offline(url, timeout=None):
        raise OSError("Network is unreachable")
    monkeypatch.setattr(data, "urlopen", offline)
    for download in (False, True):
        with pytest.raises(DataError) as err:
            load_fashion_mnist(download=download)
        message = str(err.value)
        assert "apt-get install dataset-fashion-mnist" in message and "OPTLIB_DATA" in message
        assert "download=True" in message
    assert not any(p.is_file() for p in (isolated / "cache").rglob("*"))


class FakeResponse(io.BytesIO):
    """What urlopen returns, enough for data.download."""

    def __init__(self, content):
        super().__init__(content)
        self.headers = {"Content-Length": str(len(content))}


@needs_real
def test_download_is_verified_and_atomic(isolated, monkeypatch):
    served = []

    def fake_urlopen(url, timeout=None):
        name = url.rsplit("/", 1)[1]
        served.append(name)
        return FakeResponse((REAL / name).read_bytes())

    monkeypatch.setattr(data, "urlopen", fake_urlopen)
    (x, y), (xt, yt) = load_fashion_mnist(download=True)
    assert sorted(served) == sorted(FILES) and x.shape == (60000, 784) and yt.shape == (10000,)
    cache = data.cache_dir()
    assert cache == isolated / "cache" / "optlib" / "fashion-mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(FILES)  # no temporary file left


@needs_real
def test_truncated_download_raises_and_leaves_nothing(isolated, monkeypatch):
    def truncating_urlopen(url, timeout=None):
        name = url.rsplit("/", 1)[1]
        content = (REAL / name).read_bytes()
        return FakeResponse(content[: len(content) // 2] if name.startswith("t10k-labels") else content)

    monkeypatch.setattr(data, "urlopen", truncating_urlopen)
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz"):
        load_fashion_mnist(download=True)
    files = {p.name for p in data.cache_dir().iterdir()}
    assert "t10k-labels-idx1-ubyte.gz" not in files and not any(f.endswith(".part") for f in files)

    # a second attempt downloads only what is missing, and succeeds
    served = []
    monkeypatch.setattr(data, "urlopen", lambda url, timeout=None: served.append(url) or
                        FakeResponse((REAL / url.rsplit("/", 1)[1]).read_bytes()))
    load_fashion_mnist(download=True)
    assert served == [data.MIRROR + "t10k-labels-idx1-ubyte.gz"]


@needs_real
def test_interrupted_download_is_a_data_error_and_leaves_nothing(isolated, monkeypatch):
    """The connection drops mid-file: http.client raises IncompleteRead, which is not an OSError."""
    class Dropping(FakeResponse):
        def read(self, size=-1):
            raise http.client.IncompleteRead(b"partial", 1000)

    monkeypatch.setattr(data, "urlopen", lambda url, timeout=None: Dropping(b""))
    with pytest.raises(DataError) as err:
        load_fashion_mnist(download=True)
    message = str(err.value)
    assert "IncompleteRead" in message and "train-images-idx3-ubyte.gz" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert list(data.cache_dir().iterdir()) == []  # the .part file is removed


@pytest.mark.parametrize("how", ["a file in the way", "permission denied"])
def test_unwritable_cache_is_a_data_error(isolated, monkeypatch, how):
    if how == "a file in the way":
        (isolated / "cache").write_text("not a directory")
    else:  # chmod does not stop root, so the refusal is simulated where it happens
        def refuse(*args, **kwargs):
            raise PermissionError(13, "Permission denied", kwargs.get("dir"))
        monkeypatch.setattr(data.tempfile, "mkstemp", refuse)
    monkeypatch.setattr(data, "urlopen", lambda *a, **k: pytest.fail("nothing can be downloaded"))
    with pytest.raises(DataError) as err:
        load_fashion_mnist(download=True)
    message = str(err.value)
    assert str(isolated / "cache") in message and "XDG_CACHE_HOME" in message
    assert "apt-get install dataset-fashion-mnist" in message


@needs_real
def test_download_through_a_local_http_server(isolated, monkeypatch):
    """The real urllib path, against a local server holding the real files."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(REAL))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setattr(data, "MIRROR", f"http://127.0.0.1:{server.server_address[1]}/")
        directory = data.download(progress=False)
    finally:
        server.shutdown()
        server.server_close()
    assert sorted(p.name for p in Path(directory).iterdir()) == sorted(FILES)
    assert data.read_idx(directory / "train-labels-idx1-ubyte.gz").shape == (60000,)
