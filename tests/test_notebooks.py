"""The conventions of the committed notebooks (static checks; nbval executes them).

* No outputs are committed, except the reference outputs of the `# NBVAL_CHECK_OUTPUT` cells: every
  such cell has one (else nbval compares nothing), marked `keep_output` so that nbstripout keeps it.
  `python tools/refresh_check_outputs.py book/NN-x.ipynb` rewrites them.
* Hidden check cells (those calling `claim(`) are hidden with remove-input + remove-output: MyST-NB skips
  `remove-cell` cells unexecuted in inline mode, and the prose's {eval} would miss their variables.
* No chapter silences the training progress bars, and no cell prints a comparison instead of asserting it.
"""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
MARKER = "# NBVAL_CHECK_OUTPUT"
# print(...) whose printed value is a comparison or a closeness test: a check that cannot fail.
PRINTED_CHECK = re.compile(r"print\(.*(np\.allclose\(|np\.isclose\(|np\.array_equal\()"
                           r"|(<|>|<=|>=|==)\s*[\d.]+(e-?\d+)?\s*\}"  # f-string field {err < 1e-12}
                           r"|(print\(|print\(.*,)\s*\w[\w.\[\]\"']*\s*(<|>|<=|>=|==)\s*[\w.\-\[\]\"']+\s*\)")


def code_cells(path):
    return [(i, c) for i, c in enumerate(nbformat.read(path, as_version=4).cells) if c.cell_type == "code"]


def is_checked(cell):
    return cell.source.lstrip().startswith(MARKER)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_only_on_checked_cells(path):
    for i, cell in code_cells(path):
        if is_checked(cell):
            assert cell.outputs and cell.execution_count is not None, (
                f"{path.name} cell {i}: NBVAL_CHECK_OUTPUT without a stored reference output compares nothing; "
                f"run python tools/refresh_check_outputs.py {path.relative_to(ROOT)}")
            assert cell.metadata.get("keep_output") is True, f"{path.name} cell {i}: keep_output not set"
            for out in cell.outputs:
                assert not {"image/png", "image/jpeg"} & set(out.get("data", {})), (
                    f"{path.name} cell {i}: a checked cell stores an image (nbval does not compare images)")
        else:
            assert not cell.outputs and cell.execution_count is None, (
                f"{path.name} cell {i}: outputs are committed only for NBVAL_CHECK_OUTPUT cells")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_hidden_checks_run_in_the_inline_build(path):
    for i, cell in code_cells(path):
        tags = cell.metadata.get("tags", [])
        if "claim(" in cell.source:
            assert "remove-cell" not in tags and "remove_cell" not in tags, (
                f"{path.name} cell {i}: tag it remove-input + remove-output; remove-cell is never executed")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_silenced_progress_and_no_printed_checks(path):
    for i, cell in code_cells(path):
        assert "progress=False" not in cell.source, f"{path.name} cell {i}: let the progress bars show"
        for line in cell.source.splitlines():
            assert not PRINTED_CHECK.search(line), f"{path.name} cell {i}: assert it, do not print it: {line}"


def test_the_printed_check_pattern_catches_what_it_should():
    for bad in ['print("close:", np.allclose(a, b))', 'print("ok", dm < 1e-12)', "print(x == y)",
                'print("ahead:", first["Adagrad"] > first["SGD"])', 'print(f"below 1e-8: {abs(d) < 1e-8}")',
                'same = lambda a, b: f"max < 1e-12: {np.abs(a - b).max() < 1e-12}"']:
        assert PRINTED_CHECK.search(bad), bad
    for good in ['print(f"x = {x:.3f}")', 'print(table(rows, ["a"], [".2f"]))', 'print("1/e =", f"{e:.4f}")',
                 'f"{\'more\' if a > b else \'less\'} than the gap"',
                 'f"rank changes: {int((moves > 0).sum())} of {n}"']:
        assert not PRINTED_CHECK.search(good), good


EVAL_ROLE = re.compile(r"\{eval\}`([^`]*)`")


def _assigned_names(source):
    """Names a code cell binds (assignments, for-targets, imports, defs); IPython magics are skipped."""
    import ast

    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_eval_names_a_variable_set_above(path):
    defined = set()
    for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if cell.cell_type == "code":
            defined |= _assigned_names(cell.source)
            continue
        for name in EVAL_ROLE.findall(cell.source):
            assert re.fullmatch(r"[A-Za-z_]\w*", name), (
                f"{path.name} cell {i}: {{eval}}`{name}`: the book build accepts plain variable names only")
            assert name in defined, f"{path.name} cell {i}: {{eval}}`{name}` is not set by a code cell above"


def test_the_book_executes_inline_for_eval():
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "inline"


def test_assigned_names_sees_what_a_cell_binds():
    src = "a, (b, c) = f()\nfor d in x:\n    pass\nimport numpy as np\n%matplotlib inline\ndef g(): e = 1"
    assert _assigned_names(src) == {"a", "b", "c", "d", "np", "g", "e"}
