"""Headless Chromium driven through the Chrome DevTools Protocol, for the browser tests.

Plain CDP over a websocket (websocket-client, already a Jupyter dependency): no browser download, no
driver binary. `chromium()` finds the browser (``$CHROMIUM`` first); `Browser` starts it with a fresh
profile and no network services, and gives one page (`Page`) to drive:

    with Browser(width=1280, height=1000) as page:
        page.goto("http://127.0.0.1:8000/")
        page.wait_for("document.readyState === 'complete'")
        png = page.screenshot(selector="main")
"""

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

try:
    import websocket  # websocket-client
except ImportError:  # pragma: no cover
    websocket = None

# The flags a test browser needs on a machine without internet: no sandbox (containers), no GPU, and
# none of the background services (updates, sync, QUIC probes) that would try to reach the network.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--hide-scrollbars", "--mute-audio")


def chromium():
    """The path of a Chromium-like browser (``$CHROMIUM``, chromium, chromium-browser, google-chrome), or None."""
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome", "chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def poll(predicate, timeout, interval=0.1, what="condition"):
    """Call `predicate` until it returns something truthy and return that; TimeoutError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class Page:
    """One browser tab: JavaScript evaluation, navigation, real mouse input and screenshots."""

    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=120, suppress_origin=True)
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
        """The next event `method` (one already received first), or TimeoutError after `timeout` s."""
        for i, e in enumerate(self.events):
            if e["method"] == method:
                return self.events.pop(i)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv())
            if msg.get("method") == method:
                return msg
            if "method" in msg:
                self.events.append(msg)
        raise TimeoutError(method)

    def js(self, expression, await_promise=False):
        """The value of a JavaScript expression (JSON-able), or RuntimeError with the page's exception."""
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=await_promise)
        if "exceptionDetails" in r:
            details = r["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise RuntimeError(f"JS error in {expression[:100]!r}: {text}")
        return r["result"].get("value")

    def wait_for(self, expression, timeout=60, what=None):
        """Poll a JavaScript expression until it is truthy; return its value."""
        return poll(lambda: self.js(expression), timeout, what=what or expression)

    def goto(self, url):
        self.call("Page.navigate", url=url)

    def box(self, selector_js, timeout=10):
        """The viewport rectangle {x, y, width, height} of the element `selector_js` evaluates to (None
        if there is none), after scrolling it into view and waiting until it has stopped moving:
        JupyterLab lays cells out lazily as they scroll in, so a rectangle measured at once can be stale."""
        return self.js(f"""(async () => {{
            const e = {selector_js};
            if (!e) return null;
            e.scrollIntoView({{block: 'center', inline: 'nearest'}});
            const frame = () => new Promise(r => requestAnimationFrame(() => r()));
            const rect = () => {{ const r = e.getBoundingClientRect();
                                   return {{x: r.x, y: r.y, width: r.width, height: r.height}}; }};
            let last = JSON.stringify(rect()), same = 0;
            const deadline = performance.now() + {timeout * 1000};
            while (same < 3 && performance.now() < deadline) {{
                await frame();
                const now = JSON.stringify(rect());
                same = now === last ? same + 1 : 0;
                last = now;
            }}
            if (same < 3) throw new Error('element still moving after {timeout} s');
            return JSON.parse(last);
        }})()""", await_promise=True)

    def stable_screenshot(self, selector_js, timeout=30):
        """PNG bytes of the element `selector_js`, once two screenshots in a row are identical (an
        image still decoding or a layout still settling does not count as a picture)."""
        def grab():
            box = self.box(selector_js)
            return box and box["width"] * box["height"] > 0 and self.screenshot(clip=box)
        shots = [grab()]

        def settled():
            shots.append(grab())
            return shots[-1] and shots[-1] == shots[-2]
        poll(settled, timeout, 0.2, what=f"a stable picture of {selector_js[:80]}")
        return shots[-1]

    def screenshot(self, clip=None):
        """PNG bytes of the viewport, or of `clip` (a rectangle as returned by `box`)."""
        params = {"format": "png"}
        if clip:
            params["clip"] = {**{k: clip[k] for k in ("x", "y", "width", "height")}, "scale": 1}
        return base64.b64decode(self.call("Page.captureScreenshot", **params)["data"])

    def drag(self, start, end, steps=8):
        """A real left-button mouse drag from `start` to `end` (viewport (x, y) pairs)."""
        def mouse(kind, x, y, buttons):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left",
                      buttons=buttons, clickCount=1)
        mouse("mouseMoved", *start, 0)
        mouse("mousePressed", *start, 1)
        for i in range(1, steps + 1):
            mouse("mouseMoved", start[0] + (end[0] - start[0]) * i / steps,
                  start[1] + (end[1] - start[1]) * i / steps, 1)
        mouse("mouseReleased", *end, 0)

    def click(self, point):
        self.drag(point, point, steps=0)


class Browser:
    """Headless Chromium with a fresh profile, stopped (and its profile removed) on exit."""

    def __init__(self, width=1280, height=1000, executable=None, domains=("Page", "Runtime")):
        self.executable = executable or chromium()
        if self.executable is None:
            raise FileNotFoundError("no Chromium found (install chromium or set CHROMIUM=/path/to/chromium)")
        if websocket is None:
            raise ImportError("websocket-client is needed to drive Chromium")
        self.size = (width, height)
        self.domains = domains  # the CDP domains whose events the page receives (e.g. "Log", "Network")

    def __enter__(self):
        self.profile = tempfile.mkdtemp(prefix="optbook-chromium-")
        self.proc = subprocess.Popen(
            [self.executable, *FLAGS, f"--user-data-dir={self.profile}", f"--window-size={self.size[0]},{self.size[1]}",
             "--remote-debugging-port=0", "--remote-allow-origins=*", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            port_file = Path(self.profile) / "DevToolsActivePort"
            poll(lambda: port_file.exists() and port_file.read_text().strip(), 60, what="Chromium's DevTools port")
            port = int(port_file.read_text().split()[0])
            req = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?about:blank", method="PUT")
            target = json.loads(urllib.request.urlopen(req, timeout=30).read())
            self.page = Page(target["webSocketDebuggerUrl"])
            for domain in self.domains:
                self.page.call(f"{domain}.enable")
            self.page.call("Emulation.setDeviceMetricsOverride", width=self.size[0], height=self.size[1],
                           deviceScaleFactor=1, mobile=False)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self.page

    def __exit__(self, *exc):
        page = getattr(self, "page", None)
        if page is not None:
            page.ws.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)
        return False
