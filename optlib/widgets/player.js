// optlib's kernel-free figure player (package data of optlib.widgets, read by player.py).
// It draws what the data describes and decides nothing: ranges, ticks, labels, status and legend
// come from Python. Called as (this function)(rootElement).
(function (root) {
  if (!root || root.getAttribute("data-ready")) return;
  root.setAttribute("data-ready", "1");
  var D = JSON.parse(root.querySelector("script.ox-data").textContent);
  var still = root.querySelector("img.ox-still");  // the picture for where this script cannot run
  if (still) still.parentNode.removeChild(still);
  root.querySelector(".ox-plots").style.display = "";  // hidden until now: empty where scripts do not run
  var NS = "http://www.w3.org/2000/svg", M = {l: 58, r: 12, t: 26, b: 40};
  var state = D.controls.map(function (c) { return c.init; });
  var svgs = root.querySelectorAll("svg.ox-panel");
  var statusBox = root.querySelector(".ox-status"), legendBox = root.querySelector(".ox-legend");
  var controlsBox = root.querySelector(".ox-controls");
  var outputs = [], current = null;

  function el(parent, name, attrs, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    parent.appendChild(e);
    return e;
  }
  function html(parent, name, attrs, text) {
    var e = document.createElement(name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    parent.appendChild(e);
    return e;
  }
  function frameIndex() {
    var k = 0;
    for (var i = 0; i < D.controls.length; i++) k = k * D.controls[i].labels.length + state[i];
    return k;
  }
  function set(i, v) { state[i] = v; draw(); }

  // -- controls, built from the data: slider, toggle (checkbox), buttons (two choices), dropdown --
  D.controls.forEach(function (c, i) {
    if (c.kind === "hidden") { outputs.push(null); return; }
    var row = html(controlsBox, "div", {"class": "ox-row"});
    html(row, "span", {"class": "ox-name"}, c.name);
    var out = null;
    if (c.kind === "slider") {
      var inp = html(row, "input", {type: "range", min: 0, max: c.labels.length - 1, step: 1, value: c.init,
                                    "data-control": i, "aria-label": c.name});
      out = html(row, "output", {"class": "ox-value"});
      inp.addEventListener("input", function () { set(i, +inp.value); });
    } else if (c.kind === "toggle") {
      var box = html(row, "input", {type: "checkbox", "data-control": i, "aria-label": c.name});
      box.checked = c.init === 1;
      out = html(row, "output", {"class": "ox-value"});
      box.addEventListener("change", function () { set(i, box.checked ? 1 : 0); });
    } else if (c.kind === "buttons") {
      var group = html(row, "span", {"class": "ox-buttons", "data-control": i});
      c.labels.forEach(function (label, j) {
        var b = html(group, "button", {type: "button", "data-value": j}, label);
        b.addEventListener("click", function () { set(i, j); });
      });
    } else {
      var sel = html(row, "select", {"data-control": i, "aria-label": c.name});
      c.labels.forEach(function (label, j) { html(sel, "option", {value: j}, label); });
      sel.value = String(c.init);
      sel.addEventListener("change", function () { set(i, +sel.value); });
    }
    outputs.push(out);
  });
  if (D.click) html(controlsBox, "div", {"class": "ox-hint"}, "Click on the landscape to start there.");

  // -- one panel ---------------------------------------------------------------------------------
  function drawPanel(svg, P) {
    var S = D.scenes[P[0]], W = S.w, H = S.h;
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    svg.setAttribute("viewBox", "0 0 " + (W + M.l + M.r) + " " + (H + M.t + M.b));
    svg._scene = S;
    function sx(x) { return M.l + (x - S.xr[0]) / (S.xr[1] - S.xr[0]) * W; }
    function sy(y) { return M.t + H - (y - S.yr[0]) / (S.yr[1] - S.yr[0]) * H; }
    var cid = root.id + "-clip-" + P[0];
    var cp = el(el(svg, "defs", {}), "clipPath", {id: cid});
    el(cp, "rect", {x: M.l, y: M.t, width: W, height: H});
    if (S.img) el(svg, "image", {x: M.l, y: M.t, width: W, height: H, preserveAspectRatio: "none", href: S.img});
    el(svg, "rect", {x: M.l, y: M.t, width: W, height: H, fill: "none", stroke: "#888"});
    S.xt.forEach(function (t) {
      var x = sx(t[0]);
      el(svg, "line", {x1: x, x2: x, y1: M.t + H, y2: M.t + H + 4, stroke: "#888"});
      el(svg, "text", {x: x, y: M.t + H + 17, "text-anchor": "middle"}, t[1]);
    });
    S.yt.forEach(function (t) {
      var y = sy(t[0]);
      el(svg, "line", {x1: M.l - 4, x2: M.l, y1: y, y2: y, stroke: "#888"});
      el(svg, "text", {x: M.l - 6, y: y + 4, "text-anchor": "end"}, t[1]);
    });
    el(svg, "text", {x: M.l + W / 2, y: M.t + H + 34, "text-anchor": "middle"}, S.xl);
    el(svg, "text", {x: 13, y: M.t + H / 2, "text-anchor": "middle",
                     transform: "rotate(-90 13 " + (M.t + H / 2) + ")"}, S.yl);
    el(svg, "text", {"class": "ox-ptitle", x: M.l + W / 2, y: M.t - 9, "text-anchor": "middle"}, S.title);
    var g = el(svg, "g", {"clip-path": "url(#" + cid + ")"});
    function line(L, cls) {
      var d = "", pen = "M", pts = [], P = points(L);
      for (var i = 0; i + 1 < P.length; i += 2) {
        if (P[i] === null || P[i + 1] === null) { pen = "M"; continue; }
        var x = sx(P[i]), y = sy(P[i + 1]);
        d += pen + x.toFixed(1) + " " + y.toFixed(1);
        pen = "L";
        pts.push([x, y]);
      }
      var attrs = {"class": cls, d: d, fill: "none", stroke: L.c, "stroke-width": L.w || 1.5};
      if (L.dash) attrs["stroke-dasharray"] = "5 3";
      if (L.nl) attrs.stroke = "none";
      el(g, "path", attrs);
      if (L.m) pts.forEach(function (p) { el(g, "circle", {cx: p[0].toFixed(1), cy: p[1].toFixed(1), r: L.m, fill: L.c}); });
    }
    if (S.curve !== null && S.curve !== undefined) line(D.lines[S.curve], "ox-curve");
    P[1].forEach(function (id) { line(D.lines[id], "ox-line"); });
    (P[2] || []).forEach(function (m) {
      if (m[0] === null || m[1] === null) return;
      var x = sx(m[0]), y = sy(m[1]);
      if (m[2] === "start") el(g, "circle", {"class": "ox-start", cx: x, cy: y, r: 5.5, fill: "#fff", stroke: "#000", "stroke-width": 1.5});
      else if (m[2] === "min") el(g, "path", {"class": "ox-min", fill: "#000", d: star(x, y, 8)});
      else {
        el(g, "circle", {cx: x, cy: y, r: 7, fill: "none", stroke: "#fff", "stroke-width": 3.5});
        el(g, "circle", {"class": "ox-choice", cx: x, cy: y, r: 7, fill: "none", stroke: "#d62728", "stroke-width": 2});
      }
    });
    return W + M.l + M.r;
  }
  // a stored line: plain [x0, y0, x1, y1, ...], or compact (axes.py's encode): running sums of
  // quantized differences, y only when k = 1 (x = 0, 1, 2, ...)
  function points(L) {
    if (L.p) return L.p;
    var out = [], cx = 0, cy = 0, q = L.q, d = L.d;
    if (L.k) {
      for (var i = 0; i < d.length; i++) { cy += d[i]; out.push(i, q[2] + q[3] * cy); }
    } else {
      for (var j = 0; j + 1 < d.length; j += 2) { cx += d[j]; cy += d[j + 1]; out.push(q[0] + q[1] * cx, q[2] + q[3] * cy); }
    }
    return out;
  }
  function star(x, y, r) {
    var d = "";
    for (var i = 0; i < 10; i++) {
      var a = Math.PI / 2 + i * Math.PI / 5, q = i % 2 ? r * 0.45 : r;
      d += (i ? "L" : "M") + (x + q * Math.cos(a)).toFixed(1) + " " + (y - q * Math.sin(a)).toFixed(1);
    }
    return d + "Z";
  }

  // -- the frame ---------------------------------------------------------------------------------
  function draw() {
    var k = frameIndex(), F = D.frames[k];
    current = F;
    var widths = F.pan.map(function (P, i) { return drawPanel(svgs[i], P); });
    var total = widths.reduce(function (a, b) { return a + b; }, 0);
    widths.forEach(function (w, i) { svgs[i].style.width = (100 * w / total) + "%"; });
    while (statusBox.firstChild) statusBox.removeChild(statusBox.firstChild);
    // a frame's own status, else that of the runs on its first panel (stored once with their lines)
    var shown = F.pan[0][1].map(function (id) { return D.lines[id]; });
    var texts = F.st || shown.map(function (L) { return L.s; });
    var bads = F.st ? F.st.map(function () { return F.bad; }) : shown.map(function (L) { return L.b; });
    texts.forEach(function (s, i) { html(statusBox, "div", bads[i] ? {"class": "ox-bad"} : {}, s); });
    statusBox.className = "ox-status" + (bads.some(Boolean) ? " ox-bad-some" : "");
    while (legendBox.firstChild) legendBox.removeChild(legendBox.firstChild);
    (F.lg || D.scenes[F.pan[0][0]].lg || []).forEach(function (e) {
      var item = html(legendBox, "span", {});
      var sym = {start: "○", min: "★", choice: "◎"}[e[2]];
      if (sym) html(item, "span", {style: "margin-right:5px;color:" + (e[2] === "choice" ? "#d62728" : "#000")}, sym);
      else html(item, "span", {"class": "ox-key", style: "border-top-color:" + e[1] +
                                 (e[2] === "dash" ? ";border-top-style:dashed" : e[2] === "dots" ? ";border-top-style:dotted" : "")});
      item.appendChild(document.createTextNode(e[0]));
    });
    D.controls.forEach(function (c, i) {
      if (outputs[i]) outputs[i].textContent = c.labels[state[i]];
      var b = root.querySelectorAll('[data-control="' + i + '"] button');
      b.forEach(function (btn, j) { btn.className = j === state[i] ? "ox-on" : ""; });
    });
    if (D.formula_control !== null && D.formula_control !== undefined) {
      root.querySelectorAll(".ox-formula").forEach(function (f) {
        f.hidden = +f.getAttribute("data-objective") !== state[D.formula_control];
      });
    }
    root.setAttribute("data-frame", k);
  }

  // -- click to start: snap to the nearest precomputed start ---------------------------------------
  if (D.click) {
    var target = svgs[D.click.panel];
    target.setAttribute("class", "ox-panel ox-click");
    target.addEventListener("click", function (e) {
      var S = target._scene, r = target.getBoundingClientRect();
      var vw = S.w + M.l + M.r, vh = S.h + M.t + M.b;
      var px = (e.clientX - r.left) * vw / r.width, py = (e.clientY - r.top) * vh / r.height;
      if (px < M.l || px > M.l + S.w || py < M.t || py > M.t + S.h) return;
      var x = S.xr[0] + (px - M.l) / S.w * (S.xr[1] - S.xr[0]);
      var y = S.yr[1] - (py - M.t) / S.h * (S.yr[1] - S.yr[0]);
      var oi = D.click.objective === null ? 0 : state[D.click.objective];
      var s = D.click.starts[oi], dim = s.length / D.controls[D.click.control].labels.length;
      var best = 0, bestD = Infinity;
      for (var j = 0; j * dim < s.length; j++) {
        var dx = (s[j * dim] - x) / (S.xr[1] - S.xr[0]);
        var dy = dim > 1 ? (s[j * dim + 1] - y) / (S.yr[1] - S.yr[0]) : 0;
        if (dx * dx + dy * dy < bestD) { bestD = dx * dx + dy * dy; best = j; }
      }
      set(D.click.control, best);
    });
  }

  // -- in JupyterLab: one figure at a time (see optlib/widgets/figure.py) -------------------------
  var area = root.closest && root.closest(".jp-OutputArea");
  if (area) {
    var mine = root.closest(".jp-OutputArea-child") || root;
    var check = function () {
      var live = false;
      area.querySelectorAll(".jp-OutputArea-child").forEach(function (child) {
        if (child === mine) return;
        if (child.querySelector(".optlib-live")) { live = true; return; }
        var text = (child.textContent || "").trim();
        if (/^(Loading widget\.\.\.|Error displaying widget.*)$/.test(text)) child.style.display = "none";
      });
      var want = live ? "none" : "";
      if (mine.style.display !== want) mine.style.display = want;
    };
    new MutationObserver(check).observe(area, {childList: true, subtree: true, characterData: true});
    check();
  }
  draw();
})
