""".ci/run is honest: it fails when pytest collects nothing, when Chromium or the data cannot be
installed, and when the browser test is skipped; it passes a green run through.

The script runs for real, in a copy of the repository's layout, with apt-get, pip and python replaced
by stubs on PATH (so nothing is installed and the suite is not run recursively)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_ci(tmp_path, pytest_exit=0, pytest_output="=== 3 passed in 0.1s ===", fail_install=None):
    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy(ROOT / ".ci" / "run", repo / ".ci" / "run")
    (repo / "requirements.txt").write_text("")
    stubs = tmp_path / "bin"
    stubs.mkdir()
    stub = {
        "apt-get": f'[ "$1" = install ] && [ "${{@: -1}}" = "{fail_install}" ] && exit 100; exit 0',
        "sudo": 'exec "$@"',
        "pip": "exit 0",
        "python": f"printf '%s\\n' \"{pytest_output}\"; exit {pytest_exit}",
        "chromium": "exit 0",
    }
    for name, body in stub.items():
        (stubs / name).write_text("#!/bin/bash\n" + body + "\n")
        (stubs / name).chmod(0o755)
    env = {**os.environ, "PATH": f"{stubs}:/usr/bin:/bin"}
    env.pop("CHROMIUM", None)
    return subprocess.run(["bash", str(repo / ".ci" / "run")], capture_output=True, text=True, env=env, timeout=60)


def test_a_green_run_passes(tmp_path):
    done = run_ci(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ci: pytest summary: === 3 passed in 0.1s ===" in done.stdout


def test_a_red_run_fails_with_pytests_status(tmp_path):
    done = run_ci(tmp_path, pytest_exit=1, pytest_output="=== 1 failed, 2 passed in 0.1s ===")
    assert done.returncode == 1 and "ci: exit status 1" in done.stdout


def test_no_tests_collected_is_a_failure(tmp_path):
    done = run_ci(tmp_path, pytest_exit=5, pytest_output="=== no tests ran in 0.01s ===")
    assert done.returncode != 0
    assert "pytest collected no tests" in done.stdout


@pytest.mark.parametrize("package", ["chromium", "dataset-fashion-mnist"])
def test_a_package_that_cannot_be_installed_is_a_failure(tmp_path, package):
    done = run_ci(tmp_path, fail_install=package)
    assert done.returncode != 0
    assert f"could not install {package}" in done.stdout
    assert "passed" not in done.stdout  # it stopped before the tests


def test_a_skipped_browser_test_is_a_failure(tmp_path):
    done = run_ci(tmp_path, pytest_output="SKIPPED [4] tests/test_site.py:54: no Chromium found\n"
                                          "=== 10 passed, 4 skipped in 1s ===")
    assert done.returncode != 0 and "a browser or JavaScript test was skipped" in done.stdout
