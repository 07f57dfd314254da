"""The built site, read in headless Chromium, offline.

Builds the book (`jupyter-book build . --all -W --keep-going`, so the pages are fresh and warning-free)
into artifacts/site, serves its `_build/html` on 127.0.0.1 and opens every page of the table of contents in headless Chromium,
driven through the Chrome DevTools Protocol (websocket-client, already a Jupyter dependency). On every
page: no console error or uncaught exception, no request leaves 127.0.0.1, the math is typeset by
MathJax (no raw TeX left), every <img> loaded, no empty widget placeholder, and each kernel-free
widget player redraws when a control moves. Full-page screenshots go to artifacts/screenshots/.

Skipped when no Chromium is found (set CHROMIUM=/path/to/chromium to choose one).
    pytest tests/test_site.py -v                   # reuses the notebook execution cache
    OPTBOOK_FRESH=1 pytest tests/test_site.py -v   # from an empty artifacts/site (after changing optlib)
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
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The test builds its own copy of the site (quick-mode outputs under pytest, see conftest.py), apart from
# the reader's `_build`: jupyter-cache keys executions on the code only, so a shared cache would leak
# quick-mode case studies into the full book.
OUT = ROOT / "artifacts" / "site"
HTML = OUT / "_build" / "html"
SHOTS = ROOT / "artifacts" / "screenshots"


def _chromium():
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome", "chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


CHROMIUM = _chromium()
try:
    import websocket  # websocket-client
except ImportError:  # pragma: no cover
    websocket = None

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
    # --all rereads every page; executed notebooks come from jupyter-cache, which is keyed on the
    # notebook's code only. After changing optlib (e.g. widgets.py), OPTBOOK_FRESH=1 re-executes everything.
    if os.environ.get("OPTBOOK_FRESH"):
        shutil.rmtree(OUT, ignore_errors=True)
    proc = subprocess.run(["jupyter-book", "build", str(ROOT), "--path-output", str(OUT), "--all", "-W", "--keep-going"],
                          cwd=ROOT, capture_output=True, text=True, timeout=3600)
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


class CDP:
    """A minimal Chrome DevTools Protocol client for one page."""

    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, method, timeout=60):
        deadline = time.time() + timeout
        for i, e in enumerate(self.events):
            if e["method"] == method:
                return self.events.pop(i)
        while time.time() < deadline:
            msg = json.loads(self.ws.recv())
            if msg.get("method") == method:
                return msg
            if "method" in msg:
                self.events.append(msg)
        raise TimeoutError(method)

    def js(self, expression, await_promise=False):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=await_promise)
        if "exceptionDetails" in r:
            raise RuntimeError(f"JS error in {expression[:80]!r}: {r['exceptionDetails']}")
        return r["result"].get("value")


@pytest.fixture(scope="module")
def browser():
    profile = tempfile.mkdtemp(prefix="optbook-chromium-")
    proc = subprocess.Popen(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--hide-scrollbars", "--mute-audio",
         f"--user-data-dir={profile}", "--remote-debugging-port=0", "--remote-allow-origins=*",
         "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        for _ in range(300):
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        req = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?about:blank", method="PUT")
        target = json.loads(urllib.request.urlopen(req, timeout=30).read())
        cdp = CDP(target["webSocketDebuggerUrl"])
        for domain in ("Page", "Runtime", "Log", "Network"):
            cdp.call(f"{domain}.enable")
        yield cdp
        cdp.ws.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


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
    const draw = () => (root.querySelector('svg.ox-main path.ox-traj') || {}).getAttribute?.('d') + '|' +
                       (root.querySelector('svg.ox-loss path') || {}).getAttribute?.('d');
    const r = {id: root.id, ready: root.getAttribute('data-ready') === '1', changed: [], controls: 0,
               status: root.querySelector('.ox-status').textContent};
    const move = (ctl, value, ev) => { const before = draw(); ctl.value = String(value);
                                        ctl.dispatchEvent(new Event(ev)); return draw() !== before; };
    root.querySelectorAll('input.ox-slider').forEach(inp => {
      r.controls++;
      const start = +inp.value, max = +inp.max;
      let changed = false;
      for (let v = 0; v <= max && !changed; v++) if (v !== start) changed = move(inp, v, 'input');
      move(inp, start, 'input');
      r.changed.push(changed);
    });
    const sel = root.querySelector('select.ox-objective');
    if (sel) { r.controls++; r.changed.push(move(sel, sel.options.length - 1, 'change')); move(sel, 0, 'change'); }
    r.nonEmpty = (root.querySelector('svg.ox-main path.ox-traj').getAttribute('d') || '').length > 0;
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


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v"]))
