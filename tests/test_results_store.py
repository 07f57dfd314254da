"""The results store shipped in `results/`: every entry valid, and stored runs reproduced by retraining.

The site build (tests/test_site.py) executes the book in full mode with training forbidden, which fails
on any run the chapters need that is missing or stale; here the entries themselves are checked, and a
few of them, picked at random on every run, are retrained in full and compared with their stored
histories: bit for bit on the CPU kernels that recorded them, else within `optlib.store.REPRODUCE_TOL`
(measured in benchmarks/reproduce.py).
"""

import pytest

from optlib import store


@pytest.fixture
def no_manifest(tmp_path, monkeypatch):
    # check() also compares with the manifest of the last full build; here only the entries count
    monkeypatch.setenv("OPTLIB_MANIFEST", str(tmp_path / "manifest.txt"))
    monkeypatch.delenv("OPTLIB_STORE", raising=False)


def test_shipped_entries_are_valid(no_manifest):
    entries = store.shipped_entries()
    assert entries, f"the shipped store {store.shipped_dir()} is empty"
    assert store.check() == []
    assert not any(e["config"].get("quick") for e in entries.values()), "a quick-mode run was shipped"


def test_random_stored_runs_reproduce(no_manifest):
    report, failed = store.verify(n=2)
    print("\n".join(report))
    assert len(report) == 2
    assert failed == 0, "\n".join(report)
