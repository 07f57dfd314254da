"""Shared fixtures: the float64 default dtype (restored afterwards) and the record of the largest
optimizer differences, written to artifacts/optimizer-diffs.json at the end of the session."""

import json
import math
import pathlib
from collections import defaultdict

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DIFFS_FILE = ROOT / "artifacts" / "optimizer-diffs.json"


class DiffLog:
    """Largest absolute difference seen, per (comparison, optimizer), and per setting."""

    def __init__(self):
        self.largest = defaultdict(dict)   # comparison -> optimizer -> max |diff|
        self.details = defaultdict(dict)   # comparison -> "optimizer[setting]" -> |diff|

    def record(self, comparison, optimizer, setting, diff):
        diff = float(diff)
        self.details[comparison][f"{optimizer}[{setting}]"] = diff
        old = self.largest[comparison].get(optimizer, -math.inf)
        self.largest[comparison][optimizer] = max(old, diff)

    def write(self):
        DIFFS_FILE.parent.mkdir(parents=True, exist_ok=True)
        payload = {"largest_abs_diff": self.largest, "per_setting": self.details}
        DIFFS_FILE.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")

    def report(self):
        lines = [f"\nLargest |optlib - reference| per optimizer (written to {DIFFS_FILE.relative_to(ROOT)}):"]
        for comparison in sorted(self.largest):
            lines.append(f"  {comparison}:")
            for name, diff in sorted(self.largest[comparison].items()):
                lines.append(f"    {name:<22} {diff:.3e}")
        return "\n".join(lines)


@pytest.fixture(scope="session")
def diff_log():
    log = DiffLog()
    yield log
    if log.largest:  # only sessions that compared something overwrite the file
        log.write()
        print(log.report())  # shown by `pytest -s`


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
