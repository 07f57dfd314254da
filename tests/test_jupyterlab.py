"""The book as a student uses it: a real JupyterLab server, driven in headless Chromium.

One JupyterLab (the installed jupyterlab + jupyterlab-myst, quick mode: ``OPTBOOK_QUICK=1`` in the
server's environment, so the kernels inherit it) serves a temporary folder holding a copy of
`CHAPTER` and a small generated notebook of MyST markup; nothing in the repository is modified.
The tests:

* run every cell of the chapter, then drag a slider of its explorer with the mouse and see the
  picture change (screenshots of the picture compared before and after);
* save the chapter, shut its kernel down, reload JupyterLab and reopen it: no "Error displaying
  widget" / "model not found", and a picture where the explorer was;
* see jupyterlab-myst render MyST markdown: `{cite}` roles (the chapter's and the generated
  notebook's), a dropdown and an admonition.

Screenshots go to artifacts/screenshots/jupyterlab-*.png. JupyterLab is driven through its own
application object (``--LabApp.expose_app_in_browser``, as JupyterLab's own UI tests do) for commands
such as "run all cells" and for reading the kernel's state; what the student sees is read from the page.
Skipped only when no Chromium is found (set CHROMIUM=/path/to/chromium to choose one).
"""

import io
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from browser import Browser, chromium, poll

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "artifacts" / "screenshots"
CHAPTER = "03-ewa.ipynb"  # short in quick mode (about 10 s here) and ends with an explorer
MYST = "myst.ipynb"
WIDGET_ERRORS = ("Error displaying widget", "model not found")
MIN_PICTURE_AREA = 10_000  # px²: a figure, not an icon
SETTLE = 2.0  # s without change before a reopened notebook's outputs count as final

pytestmark = pytest.mark.skipif(chromium() is None, reason="no Chromium found (install chromium or set CHROMIUM=...)")

# Generated MyST markup, one construct per cell (`{cite}` with a key of the book's references.bib).
MYST_CELLS = {
    "cite": "A citation: {cite}`kingma2015adam` introduced Adam.",
    "dropdown": ":::{dropdown} Why does the average need a bias correction?\n"
                "Because it starts at zero: the first values are pulled towards it.\n:::",
    "admonition": ":::{note}\nThe learning rate is the first hyperparameter to tune.\n:::",
}


# ---------------------------------------------------------------------------------------------
# A JupyterLab server on a temporary folder
# ---------------------------------------------------------------------------------------------

def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


class Lab:
    """`jupyter lab` serving `root` on a free localhost port with a random token, until `stop()`."""

    def __init__(self, root):
        self.root = root
        self.port, self.token = _free_port(), secrets.token_hex(16)
        # Settings of this server only: no "get Jupyter news?" prompt over the page (and no request for it).
        notification = root / ".settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        notification.parent.mkdir(parents=True)
        notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        # The user's own Jupyter configuration (a password, say) must not apply; the installation's does.
        env = dict(os.environ, OPTBOOK_QUICK="1", JUPYTER_CONFIG_DIR=str(root / ".config"),
                   JUPYTER_RUNTIME_DIR=str(root / ".runtime"))
        self.log = (root / ".server.log").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
             "--port-retries=0", f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}",
             "--allow-root",  # CI containers run as root
             "--LabApp.expose_app_in_browser=True", "--LabApp.extension_manager=readonly",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
             f"--LabApp.user_settings_dir={root / '.settings'}", f"--LabApp.workspaces_dir={root / '.workspaces'}"],
            cwd=root, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        try:
            poll(self._up, 90, 0.2, what="the JupyterLab server")
        except BaseException:
            self.stop()
            raise

    def _up(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}:\n{self.server_log()}")
        try:
            return self.api("status")
        except OSError:
            return None

    def api(self, path):
        return _get(f"http://127.0.0.1:{self.port}/api/{path}?token={self.token}")

    def url(self, notebook):
        # `reset`: start from an empty workspace (only `notebook` open).
        return f"http://127.0.0.1:{self.port}/lab/tree/{notebook}?token={self.token}&reset"

    def server_log(self):
        self.log.flush()
        return (self.root / ".server.log").read_text()[-4000:]

    def stop(self):
        self.proc.terminate()  # the server shuts its kernels down on SIGTERM
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("jupyterlab")
    shutil.copy(ROOT / "book" / CHAPTER, root / CHAPTER)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(source) for source in MYST_CELLS.values()]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (root / MYST).write_text(nbformat.writes(nb))
    server = Lab(root)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def page(lab):
    with Browser(width=1280, height=1000) as page:
        yield page


def changed_fraction(png_a, png_b):
    """The fraction of pixels that differ between two PNG images (1.0 if their sizes differ)."""
    from PIL import Image, ImageChops  # Pillow: a matplotlib dependency
    a, b = (Image.open(io.BytesIO(png)).convert("RGB") for png in (png_a, png_b))
    if a.size != b.size:
        return 1.0
    diff = ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v else 0)
    return diff.histogram()[255] / (a.size[0] * a.size[1])


def shot(name, png):
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / f"jupyterlab-{name}.png").write_bytes(png)


@pytest.fixture
def failure_shot(request, page):
    """On a failing test, a screenshot of the page as it was: artifacts/screenshots/jupyterlab-failed-<test>.png."""
    failed = request.session.testsfailed
    yield
    if request.session.testsfailed > failed:
        shot(f"failed-{request.node.name}", page.screenshot())


# ---------------------------------------------------------------------------------------------
# In-page helpers (JavaScript run in JupyterLab)
# ---------------------------------------------------------------------------------------------

def panel_js(path):
    """JavaScript for the open notebook panel of `path` (or undefined)."""
    return (f"(window.jupyterapp && Array.from(jupyterapp.shell.widgets('main'))"
            f".find(w => w.context && w.context.path === {json.dumps(path)} && w.content))")


def state(page, path):
    """The notebook's kernel status, how many code cells have run, and the errors they raised."""
    return page.js(f"""(() => {{
        const p = {panel_js(path)};
        if (!p || !p.context.isReady) return null;
        const kernel = p.sessionContext.session && p.sessionContext.session.kernel;
        const cells = p.content.widgets.filter(c => c.model.type === 'code');
        return {{kernel: kernel ? kernel.status : null,
                 ran: cells.filter(c => c.model.executionCount !== null).length, code: cells.length,
                 errors: cells.flatMap(c => c.model.outputs.toJSON().filter(o => o.output_type === 'error')
                                                 .map(o => o.ename + ': ' + o.evalue))}};
    }})()""")


def open_notebook(page, lab, path, timeout=120):
    """Load JupyterLab with `path` open and wait until its kernel is idle."""
    page.goto(lab.url(path))
    try:
        poll(lambda: (s := state(page, path)) and s["kernel"] == "idle", timeout, 0.25,
             what=f"{path} open with an idle kernel")
    except TimeoutError as err:
        shot("timeout", page.screenshot())
        raise TimeoutError(f"{path} did not open with an idle kernel; state {state(page, path)}\n"
                           f"{lab.server_log()}") from err


def widget_cells(page, path):
    """Indices of the code cells whose outputs hold a widget view."""
    return page.js(f"""{panel_js(path)}.content.widgets.map((c, i) => [c, i])
        .filter(([c]) => c.model.type === 'code' && c.model.outputs.toJSON().some(
            o => o.data && 'application/vnd.jupyter.widget-view+json' in o.data)).map(([c, i]) => i)""")


def output_js(path, index):
    return f"{panel_js(path)}.content.widgets[{index}].outputArea.node"


def picture_js(path, index, within=None):
    """JavaScript for the largest picture (img, canvas or svg, loaded and at least MIN_PICTURE_AREA
    px²) in the outputs of cell `index` (or in the element `within`), or null."""
    return f"""(() => {{
        const pics = [...{within or output_js(path, index)}.querySelectorAll('img, canvas, svg')]
            .filter(e => e.checkVisibility({{opacityProperty: true, visibilityProperty: true}}))
            .filter(e => e.tagName !== 'IMG' || (e.complete && e.naturalWidth > 0))
            .map(e => [e, e.getBoundingClientRect()]).filter(([e, r]) => r.width * r.height >= {MIN_PICTURE_AREA})
            .sort((a, b) => b[1].width * b[1].height - a[1].width * a[1].height);
        return pics.length ? pics[0][0] : null;
    }})()"""


def error_js(path, index):
    """JavaScript: does the outputs of cell `index` show one of WIDGET_ERRORS? Only text that is
    rendered and visible counts: not a hidden output, nor the source of a script that looks for it."""
    return f"""(() => {{
        const errors = {json.dumps(WIDGET_ERRORS)};
        return [...{output_js(path, index)}.querySelectorAll('*')]
            .filter(e => [...e.childNodes].some(n => n.nodeType === Node.TEXT_NODE
                                                   && errors.some(t => n.textContent.includes(t))))
            .some(e => e.checkVisibility({{opacityProperty: true, visibilityProperty: true}})
                       && e.getBoundingClientRect().height > 0);
    }})()"""


def looks(page, path, cells):
    """Per cell of `cells`: (shows a widget error, shows a picture), each output scrolled into view
    first (JupyterLab skips rendering cells out of view)."""
    seen = []
    for i in cells:
        page.box(output_js(path, i))
        seen.append((page.js(error_js(path, i)), page.js(f"!!{picture_js(path, i)}")))
    return seen


# ---------------------------------------------------------------------------------------------
# The chapter, run in JupyterLab
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def chapter(lab, page):
    """The chapter open in JupyterLab with every cell run (fails on the first cell that raises).

    Returns {"widgets": indices of the cells with a widget output, "explorers": those of them whose
    widget has a slider (progress bars, say, are widgets but not explorers)}."""
    open_notebook(page, lab, CHAPTER)
    page.js("jupyterapp.commands.execute('notebook:run-all-cells')")

    def finished():
        s = state(page, CHAPTER)
        assert not s["errors"], f"a cell of {CHAPTER} raised: {s['errors']}"
        return s["ran"] == s["code"] and s["kernel"] == "idle"
    poll(finished, 300, 0.5, what=f"every cell of {CHAPTER} to run")
    cells = widget_cells(page, CHAPTER)
    explorers = [i for i in cells if page.js(f"!!{output_js(CHAPTER, i)}.querySelector('.widget-slider')")]
    assert explorers, f"{CHAPTER} displayed no widget with a slider"
    return {"widgets": cells, "explorers": explorers}


def test_chapter_runs_and_a_slider_redraws_the_explorer(page, chapter, failure_shot):
    failed = [i for i, (error, _) in zip(chapter["widgets"], looks(page, CHAPTER, chapter["widgets"])) if error]
    assert not failed, f"cells {failed} of {CHAPTER} show a widget error after running"
    index = chapter["explorers"][0]
    slider = f"{output_js(CHAPTER, index)}.querySelector('.widget-slider')"
    # The picture of the widget itself (its output), not of another output of the cell.
    picture = picture_js(CHAPTER, index, within=f"{slider}.closest('.jp-OutputArea-output')")
    readout = f"{slider}.querySelector('.widget-readout').textContent"

    before_value = page.js(readout)
    page.box(output_js(CHAPTER, index))
    page.wait_for(f"!!{picture}", 30, what=f"the explorer's picture (a visible img, canvas or svg of at least "
                                           f"{MIN_PICTURE_AREA} px² in the widget's output)")
    before = page.stable_screenshot(picture)
    shot("explorer-before", page.stable_screenshot(output_js(CHAPTER, index)))

    # Drag the handle to the other end of the track, as a student would.
    page.box(slider)  # scroll the slider into view
    handle = page.box(f"{slider}.querySelector('.noUi-handle')")
    track = page.box(f"{slider}.querySelector('.noUi-base')")
    start = (handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    right = start[0] < track["x"] + track["width"] / 2
    end = (track["x"] + track["width"] - 1 if right else track["x"] + 1, start[1])
    page.drag(start, end)

    poll(lambda: page.js(readout) != before_value, 10, what="the slider's value to change")
    after = poll(lambda: (png := page.stable_screenshot(picture)) != before and png,
                 30, 0.2, what=f"the explorer's picture to change after the slider moved "
                               f"({before_value} -> {page.js(readout)})")
    shot("explorer-after", page.stable_screenshot(output_js(CHAPTER, index)))
    changed = changed_fraction(before, after)
    assert changed > 0.001, f"slider {before_value} -> {page.js(readout)}: only {changed:.3%} of the picture changed"


def test_chapter_citations_are_rendered(page, chapter, failure_shot):
    sources = page.js(f"{panel_js(CHAPTER)}.content.widgets.map(c => c.model.type === 'markdown' ? "
                      f"c.model.sharedModel.getSource() : '')")
    roles = [group for s in sources for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", s)]
    keys = [k.strip() for group in roles for k in group.split(",")]
    assert keys, f"{CHAPTER} cites nothing: choose a chapter with a {{cite}} role"
    # Only jupyterlab-myst's rendering (.myst), not the hidden editor holding the source.
    rendered = page.js(f"[...{panel_js(CHAPTER)}.content.node.querySelectorAll('.jp-MarkdownCell .myst')]"
                       f".map(e => e.textContent).join('\\n')")
    assert "{cite" not in rendered, "raw {cite} roles shown: jupyterlab-myst did not render the markdown"
    assert all(k in rendered for k in keys), f"citation keys {keys} not all rendered"
    first = next(i for i, source in enumerate(sources) if "{cite" in source)
    shot("chapter-cite", page.stable_screenshot(f"{panel_js(CHAPTER)}.content.widgets[{first}].node"))


def test_reopened_chapter_shows_a_picture_not_an_error(page, lab, chapter, failure_shot):
    """Saved after running, kernel shut down, JupyterLab reloaded: no widget output shows an error, and
    each explorer's output still shows a picture (the static player or an image)."""
    page.js(f"{panel_js(CHAPTER)}.context.save()", await_promise=True)
    assert not page.js(f"{panel_js(CHAPTER)}.context.model.dirty")
    saved = nbformat.read(lab.root / CHAPTER, as_version=4)
    assert all(saved.cells[i].get("outputs") for i in chapter["widgets"]), "the saved chapter lost its widget outputs"
    page.js(f"{panel_js(CHAPTER)}.sessionContext.shutdown()", await_promise=True)
    poll(lambda: not lab.api("kernels"), 30, 0.25, what="the kernel to shut down")

    open_notebook(page, lab, CHAPTER)

    # Settled: every explorer shows its error or a picture, the kernel (which the widget manager asks
    # for the models) is idle, and nothing has changed for SETTLE seconds.
    seen = {"looks": None, "since": time.monotonic()}

    def settled():
        now = looks(page, CHAPTER, chapter["widgets"])
        if now != seen["looks"]:
            seen.update(looks=now, since=time.monotonic())
        explorers = [look for i, look in zip(chapter["widgets"], now) if i in chapter["explorers"]]
        return (all(error or picture for error, picture in explorers) and state(page, CHAPTER)["kernel"] == "idle"
                and time.monotonic() - seen["since"] >= SETTLE)
    poll(settled, 90, 0.25, what="the reopened chapter's widget outputs to render")
    for i, (error, picture) in zip(chapter["widgets"], seen["looks"]):
        shot(f"reopened-cell{i}", page.stable_screenshot(output_js(CHAPTER, i)))
        if error:
            raise AssertionError(f"cell {i} of the reopened {CHAPTER} shows a widget error")
        if i in chapter["explorers"]:
            assert picture, f"cell {i} of the reopened {CHAPTER} shows no picture where the explorer was"


# ---------------------------------------------------------------------------------------------
# MyST markdown rendered by jupyterlab-myst
# ---------------------------------------------------------------------------------------------

def test_myst_markup_is_rendered(page, lab, failure_shot):
    open_notebook(page, lab, MYST)
    cells = {name: f"{panel_js(MYST)}.content.widgets[{i}].node" for i, name in enumerate(MYST_CELLS)}
    rendered = {name: f"{node}.querySelector('.myst')" for name, node in cells.items()}
    page.wait_for(" && ".join(f"!!{r}" for r in rendered.values()), 30, what="jupyterlab-myst's rendering")

    # {cite}: the key (jupyterlab-myst does not resolve references.bib), not the raw role.
    text = page.js(f"{rendered['cite']}.textContent")
    assert "{cite}" not in text and "kingma2015adam" in text, text
    shot("cite", page.stable_screenshot(cells["cite"]))

    # Dropdown: a closed <details> whose title shows; a click on it shows the body.
    details = f"{rendered['dropdown']}.querySelector('details')"
    assert page.js(f"!!{details} && !{details}.open"), page.js(f"{rendered['dropdown']}.innerHTML")
    assert "Why does the average need a bias correction?" in page.js(f"{details}.querySelector('summary').textContent")
    summary = page.box(f"{details}.querySelector('summary')")
    page.click((summary["x"] + 20, summary["y"] + summary["height"] / 2))
    page.wait_for(f"{details}.open", 10, what="the dropdown to open")
    body = page.wait_for(f"(b => b && b.getBoundingClientRect().height > 0 && b.textContent)"
                         f"({details}.querySelector('p'))", 10, what="the dropdown's body to show")
    assert "Because it starts at zero" in body
    shot("dropdown", page.stable_screenshot(cells["dropdown"]))

    # Admonition: titled "Note", with its body, not the raw ":::{note}".
    text = page.js(f"{rendered['admonition']}.textContent")
    assert ":::" not in text and text.strip().startswith("Note") and "first hyperparameter" in text, text
    assert page.js(f"!!{rendered['admonition']}.querySelector('aside')")
    shot("admonition", page.stable_screenshot(cells["admonition"]))
