"""The built site, read in headless Chromium, offline.

Builds the book (`jupyter-book build . --all -W --keep-going`, so the pages are fresh and warning-free)
into artifacts/site, serves its `_build/html` on 127.0.0.1 and opens every page of the table of contents in headless Chromium,
driven through the Chrome DevTools Protocol (websocket-client, already a Jupyter dependency). On every
page: no console error or uncaught exception, no request leaves 127.0.0.1, the math is typeset by
MathJax (no raw TeX left), every <img> loaded, no empty widget placeholder, and each kernel-free
widget player redraws when a control moves. Full-page screenshots go to artifacts/screenshots/.

The player's features (compare mode, click-to-start, toggles, noise, the EWA and phase-diagram views,
standing in for a missing widget in a JupyterLab output area) are driven on a small page of players
built by the test itself, no book build needed: `pytest tests/test_site.py -k player`.

The book is built as a reader gets it: in full mode (OPTBOOK_QUICK=0, the whole data set) with training
forbidden (OPTLIB_NO_TRAIN=1), so every case-study run must come from the results store shipped in
`results/` under the current code: a stale or missing run fails the build with the list of runs and the
command that refreshes them, and the chapters' hidden assertions about full-mode results are checked
here. (The notebooks' quick-mode training runs for real under nbval.)

Skipped when no Chromium is found (set CHROMIUM=/path/to/chromium to choose one); CI fails on that skip.
    pytest tests/test_site.py -v
"""

import base64
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from browser import Browser, chromium, websocket

ROOT = Path(__file__).resolve().parents[1]
# The test builds its own copy of the site, apart from the reader's `_build`.
OUT = ROOT / "artifacts" / "site"
HTML = OUT / "_build" / "html"
SHOTS = ROOT / "artifacts" / "screenshots"


CHROMIUM = chromium()

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found (install chromium or set CHROMIUM=...)"),
    pytest.mark.skipif(websocket is None, reason="websocket-client is not installed"),
    pytest.mark.skipif(shutil.which("jupyter-book") is None, reason="jupyter-book is not installed"),
]


def toc_pages():
    """The html pages of every file in _toc.yml, in order."""
    import yaml
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key, []) or []:
                    walk(child)
    walk(toc)
    return [f.rsplit(".", 1)[0] + ".html" if f.endswith((".md", ".ipynb")) else f + ".html" for f in files]


# ---------------------------------------------------------------------------------------------
# Fixtures: a fresh build, a local server, a browser
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site():
    # --all rereads (and so re-executes, inline) every page. Full mode, training forbidden: see the docstring.
    env = {**os.environ, "OPTBOOK_QUICK": "0", "OPTLIB_NO_TRAIN": "1"}
    proc = subprocess.run(["jupyter-book", "build", str(ROOT), "--path-output", str(OUT), "--all", "-W", "--keep-going"],
                          cwd=ROOT, capture_output=True, text=True, timeout=3600, env=env)
    assert proc.returncode == 0, "build failed or warned:\n" + (proc.stdout + proc.stderr)[-6000:]
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    with Browser(width=1280, height=900, executable=CHROMIUM, domains=("Page", "Runtime", "Log", "Network")) as page:
        yield page


# ---------------------------------------------------------------------------------------------
# In-page checks (JavaScript run in the page)
# ---------------------------------------------------------------------------------------------

WAIT_READY = """
(async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  document.querySelectorAll('img').forEach(i => { i.loading = 'eager'; });
  await Promise.all([...document.images].map(i => i.complete ? 0 :
      new Promise(r => { i.onload = i.onerror = r; setTimeout(r, 10000); })));
  return true;
})()
"""

MATH_REPORT = """
(() => {
  const body = document.querySelector('main') || document.body;
  const clone = body.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, mjx-container, textarea').forEach(e => e.remove());
  const text = clone.innerText || clone.textContent;
  const untypeset = [...document.querySelectorAll('.math')].filter(m => !m.querySelector('mjx-container'));
  return {mjx: document.querySelectorAll('mjx-container').length,
          mathNodes: document.querySelectorAll('.math').length,
          untypeset: untypeset.map(m => m.textContent.slice(0, 60)),
          rawDollars: text.includes('$$'), rawParen: /\\\\\\(|\\\\\\[/.test(text),
          mjxErrors: document.querySelectorAll('mjx-merror').length,
          mathjaxVersion: window.MathJax && MathJax.version};
})()
"""

IMAGES = """[...document.images].map(i => ({src: i.currentSrc.slice(0, 80), ok: i.complete && i.naturalWidth > 0}))"""

WIDGET_PLACEHOLDERS = """
document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"], .jupyter-widgets:empty').length
"""

PLAYER_CHECK = """
(() => {
  const out = [];
  document.querySelectorAll('[data-optlib-explore]').forEach(root => {
    const draw = () => [...root.querySelectorAll('svg.ox-panel')].map(s => s.innerHTML.length + ':' +
                        [...s.querySelectorAll('path.ox-line, circle.ox-choice')].map(p => p.getAttribute('d') ||
                        p.getAttribute('cx')).join(';')).join('|') + root.querySelector('.ox-status').textContent;
    const r = {id: root.id, ready: root.getAttribute('data-ready') === '1', changed: [], controls: 0,
               status: root.querySelector('.ox-status').textContent};
    const move = (ctl, value, ev) => { const before = draw(); ctl.value = String(value);
                                        ctl.dispatchEvent(new Event(ev)); return draw() !== before; };
    root.querySelectorAll('input[type=range][data-control]').forEach(inp => {
      r.controls++;
      const start = +inp.value, max = +inp.max;
      let changed = false;
      for (let v = 0; v <= max && !changed; v++) if (v !== start) changed = move(inp, v, 'input');
      move(inp, start, 'input');
      r.changed.push(changed);
    });
    root.querySelectorAll('input[type=checkbox][data-control]').forEach(box => {
      r.controls++;
      const before = draw(); box.click(); r.changed.push(draw() !== before); box.click();
    });
    root.querySelectorAll('.ox-buttons[data-control]').forEach(group => {
      r.controls++;
      const b = [...group.querySelectorAll('button')], on = b.findIndex(x => x.className === 'ox-on');
      const before = draw(); b[(on + 1) % b.length].click(); r.changed.push(draw() !== before); b[on].click();
    });
    root.querySelectorAll('select[data-control]').forEach(sel => {
      r.controls++;
      const start = sel.value;
      r.changed.push(move(sel, sel.options.length - 1 === +start ? 0 : sel.options.length - 1, 'change'));
      move(sel, start, 'change');
    });
    r.nonEmpty = [...root.querySelectorAll('svg.ox-panel')].every(s => s.querySelector('text'));
    out.push(r);
  });
  return out;
})()
"""


def _collect_problems(events, base):
    problems = []
    for e in events:
        m, p = e["method"], e.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            problems.append("console.error: " + " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"]))
        elif m == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            problems.append("exception: " + d.get("exception", {}).get("description", d.get("text", "")))
        elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
            problems.append(f"log error: {p['entry']['text']} {p['entry'].get('url', '')}")
        elif m == "Network.requestWillBeSent":
            url = p["request"]["url"]
            if not url.startswith((base, "data:", "blob:", "about:")):
                problems.append(f"external request: {url}")
        elif m == "Network.loadingFailed" and not p.get("canceled"):
            problems.append(f"failed load: {p.get('errorText')}")
    return problems


@pytest.mark.parametrize("page", toc_pages())
def test_page(site, browser, page):
    assert (HTML / page).exists(), f"{page} was not built"
    browser.events.clear()
    browser.call("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False)
    browser.call("Page.navigate", url=f"{site}/{page}")
    browser.wait_event("Page.loadEventFired")
    assert browser.js(WAIT_READY, await_promise=True)
    time.sleep(0.3)  # let late console messages arrive

    # screenshot first, so a failing page can still be looked at
    height = min(int(browser.js("document.documentElement.scrollHeight")), 16000)
    browser.call("Emulation.setDeviceMetricsOverride", width=1280, height=height, deviceScaleFactor=1, mobile=False)
    shot = browser.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / (page.replace("/", "__").removesuffix(".html") + ".png")).write_bytes(base64.b64decode(shot["data"]))

    math = browser.js(MATH_REPORT)
    images = browser.js(IMAGES)
    placeholders = browser.js(WIDGET_PLACEHOLDERS)
    players = browser.js(PLAYER_CHECK)
    browser.js("0")  # flush pending events into browser.events
    problems = _collect_problems(browser.events, site)

    assert not problems, "\n".join(problems)
    assert not math["untypeset"], f"math not typeset: {math['untypeset']}"
    if math["mathNodes"]:
        assert math["mjx"] > 0 and str(math["mathjaxVersion"]).startswith("3."), math
    assert not math["rawDollars"] and not math["rawParen"], f"raw TeX visible on {page}"
    assert math["mjxErrors"] == 0, f"MathJax errors on {page}"
    bad = [i["src"] for i in images if not i["ok"]]
    assert not bad, f"images not loaded: {bad}"
    assert placeholders == 0, "an empty widget placeholder (dead widget) is on the page"
    for p in players:
        assert p["ready"] and p["nonEmpty"], p
        assert p["controls"] and all(p["changed"]), f"player {p['id']} does not respond to every control: {p}"


def test_every_toc_page_is_checked():
    """The parametrization above covers the whole toc (this fails if _toc.yml cannot be read)."""
    pages = toc_pages()
    assert pages[0] == "book/intro.html" and pages[-1] == "book/bibliography.html"


# ---------------------------------------------------------------------------------------------
# The static player's features, on a small page of players built here (no book build needed)
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def players(browser):
    """A page with four players: compare + noise + click, toggles/buttons/dropdown, EWA, phase diagram."""
    import numpy as np

    import optlib
    from optlib import objectives
    from optlib.widgets import ewa_explorer, explore, momentum_phase
    figures = {
        "compare": explore({"GD": lambda lr: optlib.SGD(lr=lr),
                            "momentum": lambda lr, beta: optlib.SGD(lr=lr, momentum=beta),
                            "Adam": lambda lr: optlib.Adam(lr=lr * 100)},
                           objectives.Bowl(1.0, 10.0), {"lr": [0.005, 0.02], "beta": [0.5, 0.9]},
                           noise=[0.0, 30.0], click=5, steps=60, title="compare"),
        "controls": explore(lambda lr, nesterov, kind: optlib.SGD(lr=lr, momentum=0.9 if kind == "heavy" else 0.5,
                                                                   nesterov=nesterov),
                            [objectives.Bowl(1.0, 10.0), objectives.Rosenbrock(), objectives.Saddle()],
                            {"lr": [0.001, 0.01], "nesterov": [False, True], "kind": ["light", "heavy"]},
                            steps=80, title="controls"),
        "ewa": ewa_explorer(),
        "phase": momentum_phase(),
    }
    body = "".join(f'<section id="{k}">{f.to_html()}</section>' for k, f in figures.items())
    folder = Path(tempfile.mkdtemp(prefix="optlib-players-"))
    (folder / "index.html").write_text('<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>players</title>'
                                       f'</head><body style="width:720px;margin:0 auto">{body}</body></html>')
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    browser.events.clear()
    browser.call("Emulation.setDeviceMetricsOverride", width=760, height=900, deviceScaleFactor=1, mobile=False)
    browser.call("Page.navigate", url=f"{base}/index.html")
    browser.wait_event("Page.loadEventFired")
    yield browser, figures, base
    server.shutdown()
    server.server_close()
    shutil.rmtree(folder, ignore_errors=True)
    assert np  # numpy is what the figures were built with


def _q(section, selector):
    return f"document.querySelector('#{section} {selector}')"


def state(cdp, section):
    return cdp.js(f"""(() => {{
      const root = document.querySelector('#{section} .optlib-player');
      const panel = root.querySelector('svg.ox-panel');
      return {{frame: +root.getAttribute('data-frame'),
              lines: [...panel.querySelectorAll('path.ox-line')].map(p => [p.getAttribute('stroke'), p.getAttribute('d')]),
              start: (() => {{ const c = panel.querySelector('circle.ox-start'); return c && [+c.getAttribute('cx'), +c.getAttribute('cy')]; }})(),
              choice: (() => {{ const c = panel.querySelector('circle.ox-choice'); return c && [+c.getAttribute('cx'), +c.getAttribute('cy')]; }})(),
              image: (panel.querySelector('image') || {{getAttribute: () => ''}}).getAttribute('href').slice(-40),
              status: [...root.querySelectorAll('.ox-status div')].map(d => d.textContent),
              legend: root.querySelector('.ox-legend').textContent,
              losses: [...root.querySelectorAll('svg.ox-panel')[1]?.querySelectorAll('text') || []].map(t => t.textContent)}};
    }})()""")


def test_players_load_without_errors_and_answer_every_control(players):
    cdp, figures, base = players
    results = cdp.js(PLAYER_CHECK)
    cdp.js("0")
    assert not _collect_problems(cdp.events, base)
    assert len(results) == len(figures)
    # the script replaced each still picture by the live SVG panels
    assert cdp.js("document.querySelectorAll('img.ox-still').length") == 0
    assert cdp.js("[...document.querySelectorAll('.ox-plots')].every(p => p.offsetHeight > 100)")
    for r in results:
        assert r["ready"] and r["nonEmpty"], r
        assert r["controls"] and all(r["changed"]), r
    SHOTS.mkdir(parents=True, exist_ok=True)
    height = int(cdp.js("document.documentElement.scrollHeight"))
    cdp.call("Emulation.setDeviceMetricsOverride", width=760, height=height, deviceScaleFactor=1, mobile=False)
    shot = cdp.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    (SHOTS / "players.png").write_bytes(base64.b64decode(shot["data"]))
    cdp.call("Emulation.setDeviceMetricsOverride", width=760, height=900, deviceScaleFactor=1, mobile=False)


def test_player_compare_mode_overlays_each_optimizer_in_its_colour(players):
    cdp, _, _ = players
    s = state(cdp, "compare")
    assert len(s["lines"]) == 3 and len({c for c, _ in s["lines"]}) == 3
    for name in ("GD", "momentum", "Adam", "start", "minimum"):
        assert name in s["legend"]
    assert [t.split(":")[0] for t in s["status"]] == ["GD", "momentum", "Adam"]
    # a slider only momentum takes: only momentum's line moves
    cdp.js(f"(() => {{ const i = {_q('compare', 'input[aria-label=beta]')}; i.value = '1'; i.dispatchEvent(new Event('input')); }})()")
    t = state(cdp, "compare")
    assert t["lines"][0] == s["lines"][0] and t["lines"][2] == s["lines"][2] and t["lines"][1] != s["lines"][1]


def test_player_click_on_the_landscape_starts_from_the_nearest_grid_point(players):
    cdp, figures, _ = players
    before = state(cdp, "compare")
    # click at 75 % across and 20 % down the plot area (SVG margins: left 58, top 26)
    point = cdp.js(f"""(() => {{
      const svg = {_q('compare', 'svg.ox-panel')}, r = svg.getBoundingClientRect(), vb = svg.viewBox.baseVal;
      const k = r.width / vb.width, W = vb.width - 58 - 12, H = vb.height - 26 - 40;
      const x = r.left + k * (58 + 0.75 * W), y = r.top + k * (26 + 0.2 * H);
      svg.dispatchEvent(new MouseEvent('click', {{clientX: x, clientY: y, bubbles: true}}));
      return [58 + 0.75 * W, 26 + 0.2 * H, W, H];
    }})()""")
    after = state(cdp, "compare")
    assert after["frame"] != before["frame"] and after["lines"] != before["lines"]
    # the new start is the grid point nearest the click (in the box's proportions), drawn where it is
    data = figures["compare"].data()
    scene = data["scenes"][0]
    (x0, x1), (y0, y1) = scene["xr"], scene["yr"]
    x, y = x0 + 0.75 * (x1 - x0), y1 - 0.2 * (y1 - y0)
    grid = [data["click"]["starts"][0][i:i + 2] for i in range(0, len(data["click"]["starts"][0]), 2)]
    gx, gy = min(grid, key=lambda g: ((g[0] - x) / (x1 - x0)) ** 2 + ((g[1] - y) / (y1 - y0)) ** 2)
    W, H = point[2], point[3]
    assert after["start"] == [pytest.approx(58 + (gx - x0) / (x1 - x0) * W, abs=0.5),
                              pytest.approx(26 + H - (gy - y0) / (y1 - y0) * H, abs=0.5)]


def test_player_noise_slider_changes_the_runs(players):
    cdp, _, _ = players
    before = state(cdp, "compare")
    cdp.js(f"(() => {{ const i = {_q('compare', 'input[aria-label=noise]')}; i.value = '1'; i.dispatchEvent(new Event('input')); }})()")
    after = state(cdp, "compare")
    assert all(a != b for a, b in zip(after["lines"], before["lines"]))
    assert after["status"] != before["status"]


def test_player_toggle_buttons_and_dropdown(players):
    cdp, _, _ = players
    s0 = state(cdp, "controls")
    cdp.js(f"{_q('controls', 'input[type=checkbox]')}.click()")
    s1 = state(cdp, "controls")
    assert s1["frame"] != s0["frame"] and s1["lines"] != s0["lines"]
    cdp.js(f"{_q('controls', '.ox-buttons button:not(.ox-on)')}.click()")
    s2 = state(cdp, "controls")
    assert s2["frame"] != s1["frame"] and s2["lines"] != s1["lines"]
    assert cdp.js(f"{_q('controls', '.ox-buttons button.ox-on')}.textContent") == "light" or s2 != s1
    cdp.js(f"(() => {{ const s = {_q('controls', 'select')}; s.value = '2'; s.dispatchEvent(new Event('change')); }})()")
    s3 = state(cdp, "controls")
    assert s3["image"] != s2["image"]  # the saddle's landscape
    assert "log scale" not in " ".join(s3["losses"])  # the saddle's loss can be negative: a linear axis
    cdp.js(f"(() => {{ const s = {_q('controls', 'select')}; s.value = '0'; s.dispatchEvent(new Event('change')); }})()")
    ticks = [t for t in state(cdp, "controls")["losses"] if t.startswith("10") or t in ("1", "0.1")]
    assert len(ticks) == len(set(ticks)) >= 2  # the bowl's log axis: distinct decades


def test_ewa_player_bias_correction_and_lag(players):
    cdp, _, _ = players
    s0 = state(cdp, "ewa")
    cdp.js(f"{_q('ewa', 'input[type=checkbox]')}.click()")
    s1 = state(cdp, "ewa")
    assert len(s1["lines"]) == len(s0["lines"]) + 1 and "bias-corrected" in s1["legend"]
    lags = []
    for i in (0, 5):
        cdp.js(f"(() => {{ const r = {_q('ewa', 'input[type=range]')}; r.value = '{i}'; r.dispatchEvent(new Event('input')); }})()")
        import re
        lags.append(int(re.search(r"lag: (\d+) steps", " ".join(state(cdp, "ewa")["status"])).group(1)))
    assert lags[1] > lags[0]


def test_phase_player_marks_the_choice_and_switches_kappa(players):
    cdp, _, _ = players
    s0 = state(cdp, "phase")
    cdp.js(f"(() => {{ const r = {_q('phase', 'input[aria-label=lr]')}; r.value = '2'; r.dispatchEvent(new Event('input')); }})()")
    s1 = state(cdp, "phase")
    assert s1["choice"][0] < s0["choice"][0] and s1["choice"][1] == s0["choice"][1]  # smaller lr: further left
    cdp.js(f"(() => {{ const s = {_q('phase', 'select')}; s.value = '2'; s.dispatchEvent(new Event('change')); }})()")
    s2 = state(cdp, "phase")
    assert s2["image"] != s1["image"] and "κ = 1000" in cdp.js(f"{_q('phase', 'svg.ox-panel')}.textContent")
    assert any("optimum" in t for t in s2["status"])



def test_player_stands_in_for_a_missing_widget_in_a_jupyterlab_output_area(players):
    """The output structure JupyterLab gives a reopened notebook (see optlib/widgets/figure.py): the
    player's output, then the widget output whose renderer found no model. The player hides that
    error and stays; once a live widget (class optlib-live) renders, the player steps aside."""
    cdp, figures, _ = players
    player_html = json.dumps(figures["ewa"].to_html())
    result = cdp.js(f"""(async () => {{
      const area = document.createElement('div'); area.className = 'jp-OutputArea';
      area.innerHTML = '<div class="jp-OutputArea-child"><div class="jp-OutputArea-output"></div></div>' +
                       '<div class="jp-OutputArea-child"><div class="jp-OutputArea-output">Loading widget...</div></div>';
      document.body.appendChild(area);
      const out = area.querySelector('.jp-OutputArea-output');
      out.innerHTML = {player_html};
      // innerHTML does not run scripts; JupyterLab runs those of trusted html outputs, as here:
      out.querySelectorAll('script:not([type])').forEach(old => {{
        const s = document.createElement('script'); s.textContent = old.textContent; old.replaceWith(s); }});
      const [mine, widget] = area.querySelectorAll('.jp-OutputArea-child');
      const tick = () => new Promise(r => setTimeout(r, 50));
      await tick();
      const loading = [mine.style.display, widget.style.display];
      widget.firstChild.textContent = 'Error displaying widget: model not found';
      await tick();
      const missing = [mine.style.display, widget.style.display, mine.querySelector('svg.ox-panel text') !== null];
      widget.style.display = '';
      widget.firstChild.innerHTML = '<div class="lm-Widget optlib-live">live figure</div>';
      await tick();
      const live = [mine.style.display, widget.style.display];
      area.remove();
      return {{loading, missing, live}};
    }})()""", await_promise=True)
    assert result["loading"] == ["", "none"]
    assert result["missing"] == ["", "none", True]
    assert result["live"] == ["none", ""]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v"]))
