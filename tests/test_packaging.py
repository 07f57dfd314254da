"""optlib installs on its own: a clean virtual environment with numpy alone gets the numpy front, the
rules, the objectives and the schedule functions; the torch-only parts say which extra they need.
Also: one version everywhere, the licences stated where a reader looks, ruff clean."""

import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import numpy
import pytest

import optlib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

# Runs inside the clean environment; every check is an assert, so a failure fails the test.
CLEAN_ENV_SCRIPT = textwrap.dedent(r"""
    import importlib.metadata, importlib.util, pathlib, sys
    import numpy as np

    for absent in ("torch", "matplotlib", "ipywidgets", "IPython"):
        assert importlib.util.find_spec(absent) is None, f"{absent} leaked into the clean environment"

    import optlib
    from optlib.objectives import Rosenbrock
    assert "torch" not in sys.modules
    assert optlib.__version__ == importlib.metadata.version("optlib"), optlib.__version__
    assert (pathlib.Path(optlib.__file__).parent / "py.typed").is_file()

    x = optlib.SGD(lr=0.1).step(np.array([1.0]), np.array([2.0]))
    assert np.allclose(x, [0.8]), x
    path = optlib.run(optlib.Adam(lr=0.1), Rosenbrock(), [-1.5, 2.0], steps=20)
    assert path.shape == (21, 2) and np.isfinite(path).all()
    assert abs(optlib.schedules.exponential_decay(2, 1.0, rate=0.5) - 0.25) < 1e-15

    for name, extra in [("optim", "torch"), ("train", "torch"), ("display", "widgets")]:
        try:
            getattr(optlib, name)
        except ImportError as err:
            assert f"optlib[{extra}]" in str(err) and f"optlib.{name}" in str(err), str(err)
        else:
            raise AssertionError(f"optlib.{name} imported without its dependencies")
    try:
        from optlib import optim  # noqa: F401  (the from-import spelling goes through the same path)
    except ImportError as err:
        assert "optlib[torch]" in str(err), str(err)
    print("clean environment: ok")
""")


def _build_backend_args():
    """Build without isolation when the local setuptools is new enough (no download), else let pip
    fetch the build requirement."""
    try:
        import setuptools
        major = int(setuptools.__version__.split(".")[0])
    except ImportError:
        return []
    return ["--no-build-isolation"] if major >= 77 else []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX virtual environment layout")
def test_clean_numpy_only_environment(tmp_path):
    # Build from a copy of what a fresh clone has (setuptools leaves build/ next to the sources).
    source = tmp_path / "source"
    shutil.copytree(ROOT / "optlib", source / "optlib", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE", "LICENSE-TEXT.md"):
        shutil.copy(ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", *_build_backend_args(),
                    "-w", str(wheels), str(source)], check=True, cwd=tmp_path)
    wheel, = wheels.glob("optlib-*.whl")
    assert wheel.name.startswith(f"optlib-{optlib.__version__}-")

    # A venv without pip (ensurepip is missing from some distributions' Python); this interpreter's
    # pip installs the wheel into it. -I: PYTHONPATH (the repository's optlib) must not leak in.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([python, "-I", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    subprocess.run([sys.executable, "-I", "-m", "pip", "install", "-q", "--no-index", "--no-deps",
                    "--target", site, str(wheel)], check=True)
    # numpy without downloading it: this interpreter's own copy, and nothing else of its site-packages.
    only_numpy = tmp_path / "only-numpy"
    only_numpy.mkdir()
    numpy_dir = Path(numpy.__file__).parent
    for entry in numpy_dir.parent.iterdir():
        if entry.name == "numpy" or entry.name.startswith(("numpy-", "numpy.libs")):
            (only_numpy / entry.name).symlink_to(entry)
    (Path(site) / "only_numpy.pth").write_text(f"{only_numpy}\n")

    result = subprocess.run([python, "-I", "-c", CLEAN_ENV_SCRIPT], capture_output=True, text=True,
                            cwd=tmp_path)  # -I and cwd: the repository's optlib is not on the path
    assert result.returncode == 0, result.stdout + result.stderr
    assert "clean environment: ok" in result.stdout


def test_core_dependencies_are_numpy_only_and_extras_exist():
    project = PYPROJECT["project"]
    assert project["dependencies"] == ["numpy"]
    assert {"torch", "widgets", "book", "test", "all"} <= set(project["optional-dependencies"])
    assert "jupyterlab-myst" in project["optional-dependencies"]["book"]
    assert project["dynamic"] == ["version"] and "version" not in project
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "optlib.__version__"}
    assert project["license"] == "MIT" and project["readme"] == "README.md" and project["urls"]


def test_import_optlib_does_not_import_torch():
    code = "import sys, optlib; optlib.run; optlib.schedules.cosine; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        optlib.nonexistent  # noqa: B018


def test_one_version_everywhere():
    version = optlib.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    citation = (ROOT / "CITATION.cff").read_text()
    assert re.search(rf'^version: "{re.escape(version)}"$', citation, re.M)
    assert f"## [{version}]" in (ROOT / "CHANGELOG.md").read_text()


def test_licences_are_stated_where_readers_look():
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert "CC BY 4.0" in (ROOT / "LICENSE-TEXT.md").read_text()
    for page in ("README.md", "book/intro.md"):
        text = (ROOT / page).read_text()
        assert "MIT" in text and "CC BY 4.0" in text, page
    assert re.search(r"^license: MIT$", (ROOT / "CITATION.cff").read_text(), re.M)


def test_ruff_is_clean():  # ruff comes with requirements.txt ([test] extra)
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_pages_workflow_builds_fully_caches_training_and_deploys():
    import yaml  # comes with jupyter-book

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
    jobs = workflow["jobs"]
    build_steps = jobs["build"]["steps"]
    runs = [s.get("run", "") for s in build_steps]
    assert "pip install -r requirements.txt" in runs
    assert any(r.startswith("jupyter-book build . --all -W") for r in runs)
    assert "OPTBOOK_QUICK" not in str(workflow)  # the published site is the full-mode book
    cache, = [s for s in build_steps if s.get("uses", "").startswith("actions/cache@")]
    assert cache["with"]["path"] == "~/.cache/optlib"  # results store and data (optlib.train.cache_dir)
    upload, = [s for s in build_steps if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert upload["with"]["path"] == "_build/html"
    assert [s["uses"] for s in jobs["deploy"]["steps"]] == ["actions/deploy-pages@v4"]
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert any(s.get("run") == "ruff check ." for s in jobs["lint"]["steps"])
