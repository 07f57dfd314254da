"""Sphinx extension (loaded from _config.yml): keep the site readable offline.

* Drops sphinx-thebe's scripts and stylesheet from every page. Jupyter Book 1 always loads
  sphinx-thebe, even with Thebe off; its inline config script is added twice, which throws
  "Identifier 'THEBE_JS_URL' has already been declared" in the browser console, and Thebe itself
  would come from unpkg.com (no use offline anyway: there is no kernel to connect to).
* After the build, warns (so `-W` fails the build) about any page whose <script src> or
  <link href> (stylesheets, preloads, icons) points at http(s):// or protocol-relative URLs:
  no page may wait on an external resource.
"""

import re
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)

_EXTERNAL = re.compile(
    r"""<(?:script\b[^>]*\bsrc|link\b[^>]*\bhref)\s*=\s*["']((?:https?:)?//[^"']+)["'][^>]*>""", re.I)
_LINK_REL_OK = re.compile(r"""\brel\s*=\s*["'](?:canonical|alternate|author|license|next|prev)["']""", re.I)


def _drop_thebe(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if scripts:
        context["script_files"] = [
            s for s in scripts
            if "sphinx-thebe" not in str(s) and "THEBE_JS_URL" not in str(getattr(s, "attributes", {}).get("body", ""))
        ]
    css = context.get("css_files")
    if css:
        context["css_files"] = [c for c in css if "sphinx-thebe" not in str(c)]


def _check_offline(app, exc):
    if exc is not None or app.builder.format != "html":
        return
    for page in sorted(Path(app.outdir).rglob("*.html")):
        text = page.read_text(encoding="utf-8", errors="replace")
        for m in _EXTERNAL.finditer(text):
            if m.group(0).lower().startswith("<link") and _LINK_REL_OK.search(m.group(0)):
                continue  # plain hyperlinks in <head>, not loaded by the browser
            logger.warning("offline site: %s loads an external resource: %s",
                           page.relative_to(app.outdir), m.group(1), type="optbook", subtype="offline")


def setup(app):
    app.connect("html-page-context", _drop_thebe, priority=900)
    app.connect("build-finished", _check_offline)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
