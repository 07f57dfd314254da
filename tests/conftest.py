"""Shared fixtures: the float64 default dtype (restored afterwards) and the record of the largest
optimizer differences, written to artifacts/optimizer-diffs.json at the end of the session.

Under pytest-xdist every worker has its own session, so each writes its records to a part file and
the controller merges them: no worker's results overwrite another's."""

import json
import math
import pathlib
import shutil
from collections import defaultdict

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DIFFS_FILE = ROOT / "artifacts" / "optimizer-diffs.json"
PARTS_DIR = ROOT / "artifacts" / "optimizer-diffs.parts"


class DiffLog:
    """Every measured difference; the summaries (largest per optimizer, each setting) are derived."""

    def __init__(self, records=()):
        self.records = list(records)  # (comparison, optimizer, setting, |diff|), in test order

    def record(self, comparison, optimizer, setting, diff):
        self.records.append((comparison, optimizer, str(setting), float(diff)))

    def largest(self):
        """comparison -> optimizer -> the largest |diff| over its settings."""
        out = defaultdict(dict)
        for comparison, optimizer, _, diff in self.records:
            out[comparison][optimizer] = max(out[comparison].get(optimizer, -math.inf), diff)
        return out

    def write(self):
        details = defaultdict(dict)
        for comparison, optimizer, setting, diff in self.records:
            details[comparison][f"{optimizer}[{setting}]"] = diff
        DIFFS_FILE.parent.mkdir(parents=True, exist_ok=True)
        payload = {"largest_abs_diff": self.largest(), "per_setting": details}
        DIFFS_FILE.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")

    def report(self):
        lines = [f"\nLargest |optlib - reference| per optimizer (written to {DIFFS_FILE.relative_to(ROOT)}):"]
        for comparison, diffs in sorted(self.largest().items()):
            lines.append(f"  {comparison}:")
            for name, diff in sorted(diffs.items()):
                lines.append(f"    {name:<22} {diff:.3e}")
        return "\n".join(lines)


def _worker_id(config):
    """xdist's worker name ("gw0", ...), or "main" in the controller / a run without xdist."""
    return getattr(config, "workerinput", {}).get("workerid", "main")


def pytest_configure(config):
    if _worker_id(config) == "main":  # a new run: forget the parts of an earlier one
        shutil.rmtree(PARTS_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def diff_log(request):
    log = DiffLog()
    yield log
    if log.records:
        PARTS_DIR.mkdir(parents=True, exist_ok=True)
        (PARTS_DIR / f"{_worker_id(request.config)}.json").write_text(json.dumps(log.records))


def pytest_sessionfinish(session):
    """In the controller (after every worker has finished): merge the parts into one file."""
    if _worker_id(session.config) != "main" or not PARTS_DIR.is_dir():
        return
    merged = DiffLog(r for part in sorted(PARTS_DIR.glob("*.json")) for r in json.loads(part.read_text()))
    shutil.rmtree(PARTS_DIR, ignore_errors=True)
    if merged.records:  # only sessions that compared something overwrite the file
        merged.write()
        print(merged.report())  # shown by `pytest -s`


@pytest.fixture
def float64_default():
    """torch's default dtype set to float64 for one test, and put back afterwards."""
    import torch

    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(old)
