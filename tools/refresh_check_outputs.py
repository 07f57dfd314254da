"""Store the reference outputs of the notebooks' `# NBVAL_CHECK_OUTPUT` cells, which nbval compares.

    python tools/refresh_check_outputs.py book/03-ewa.ipynb [...]     # or: --all
    python tools/refresh_check_outputs.py --strip-only book/03-ewa.ipynb   # no execution

Runs each notebook in quick mode (OPTBOOK_QUICK=1, as the tests do) in its own folder and writes it back
with outputs on the marked cells only (execution count 1, metadata `keep_output: true` so that
`nbstripout` keeps them) and none anywhere else: the convention tests/test_notebooks.py enforces.
Run it after changing what such a cell prints, and review the diff: the new outputs become the reference.
`--strip-only` removes every other output without running anything (after saving a notebook from
JupyterLab). Do not use nbstripout's defaults here: it sets every execution count to null, and nbval
then reports the kept outputs as "Unrun reference cell has outputs"; it also renumbers cell ids.
"""

import argparse
import copy
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
MARKER = "# NBVAL_CHECK_OUTPUT"


def is_checked(cell):
    return cell.cell_type == "code" and cell.source.lstrip().startswith(MARKER)


def stored(outputs):
    """The outputs as committed: consecutive stream chunks joined (how the kernel flushes stdout varies
    from run to run; nbval joins them too) and execution counts pinned to 1 (nbval ignores them), so
    that a rerun that prints the same text writes the same file."""
    out = []
    for o in copy.deepcopy(outputs):
        if "execution_count" in o:
            o["execution_count"] = 1
        if out and o.output_type == "stream" and out[-1].output_type == "stream" and out[-1].name == o.name:
            out[-1].text += o.text
        else:
            out.append(o)
    return out


def refresh(path, timeout=1800, execute=True):
    path = Path(path).resolve()
    text = path.read_text()
    nb = nbformat.reads(text, as_version=4)
    run = copy.deepcopy(nb)
    if execute:
        for cell in run.cells:  # execute from a clean slate
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        NotebookClient(run, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell, ran in zip(nb.cells, run.cells, strict=True):
        if cell.cell_type != "code":
            continue
        if is_checked(cell) and not ran.outputs:
            print(f"{path.name}: a checked cell has no output yet; run without --strip-only", file=sys.stderr)
        if is_checked(cell):
            cell.outputs, cell.execution_count = stored(ran.outputs), 1
            cell.metadata["keep_output"] = True
        else:
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("keep_output", None)
    new = nbformat.writes(nb) + "\n"
    if new != text:
        path.write_text(new)
    return sum(map(is_checked, nb.cells))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--all", action="store_true", help="every notebook in book/")
    parser.add_argument("--strip-only", action="store_true", help="clear the other outputs; execute nothing")
    args = parser.parse_args(argv)
    paths = sorted((ROOT / "book").glob("*.ipynb")) if args.all else args.notebooks
    if not paths:
        parser.error("name notebooks, or --all")
    os.environ["OPTBOOK_QUICK"] = "1"  # the kernels inherit it; the tests compare in quick mode
    for path in paths:
        n = refresh(path, execute=not args.strip_only)
        print(f"{path.name}: {n} checked cell(s) stored", file=sys.stderr)


if __name__ == "__main__":
    main()
