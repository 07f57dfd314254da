"""The README's commands are the ones CI runs, and what the README promises exists."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def commands():
    block = re.search(r"## The two commands.*?```bash\n(.*?)```", README, re.S).group(1)
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_readme_gives_exactly_two_commands_that_install_first():
    cmds = commands()
    assert len(cmds) == 2
    assert all(c.startswith("pip install -r requirements.txt && ") for c in cmds)
    assert "jupyter-book build ." in cmds[0] and "pytest" in cmds[1]


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands()[1] in ci
    assert "dataset-fashion-mnist" in ci


def test_requirements_pin_torch_and_install_optlib():
    req = (ROOT / "requirements.txt").read_text().split()
    assert "torch==2.13.0" in req and "-e" in req


def test_readme_picture_and_paths_exist():
    for path in re.findall(r"\]\((docs/[^)]+)\)", README) + ["_config.yml", "_toc.yml", "conftest.py"]:
        assert (ROOT / path).exists(), path
