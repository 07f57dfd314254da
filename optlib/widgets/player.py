"""The static HTML player: a figure's data plus ``player.js`` and ``player.css`` (package data).

No external resource: plain JavaScript drawing inline SVG. The script decides nothing: ranges, ticks,
labels, status texts and legends all come in the data (see :mod:`.figure`).
"""

import hashlib
import html
import itertools
import json
from importlib import resources

_counter = itertools.count(1)


def asset(name):
    """The text of a packaged asset (``player.js``, ``player.css``)."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def to_html(data, still=None):
    """The player for `data`; `still` (an image URI) is shown until the script runs, and where it cannot."""
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False)
    uid = f"optlib-player-{hashlib.sha1(payload.encode()).hexdigest()[:10]}-{next(_counter)}"
    title = f'<div class="ox-title">{html.escape(data["title"])}</div>' if data.get("title") else ""
    formulas = "".join(
        f'<div class="ox-formula mathjax_process" data-objective="{i}"{"" if i == 0 else " hidden"}>'
        f'{html.escape(name)}: \\({html.escape(formula)}\\)</div>'
        for i, (name, formula) in enumerate(data.get("formulas", [])) if formula)
    payload = payload.replace("</", "<\\/")  # no "</script>" inside the data
    img = (f'<img class="ox-still" alt="{html.escape(data["title"] or "figure")}" src="{still}" '
           'style="max-width:100%">') if still else ""
    panels = "".join('<svg class="ox-panel"></svg>' for _ in data["frames"][0]["pan"])
    return (f'<div class="optlib-player" id="{uid}" data-optlib-explore="1" data-kind="{data["kind"]}">'
            f'<style>{asset("player.css")}</style>{title}{formulas}{img}<div class="ox-controls"></div>'
            f'<div class="ox-plots" style="display:none">{panels}</div><div class="ox-legend"></div><div class="ox-status"></div>'
            f'<script type="application/json" class="ox-data">{payload}</script>'
            f'<script>{asset("player.js").strip().rstrip(";")}(document.getElementById("{uid}"));</script></div>')
