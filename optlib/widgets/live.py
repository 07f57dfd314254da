"""The ipywidgets binding: the figure's controls as widgets, the matplotlib picture redrawn on every change.

Controls by kind: a SelectionSlider for numbers, a Checkbox for two booleans, ToggleButtons for two
choices, a Dropdown for categories. Clicking on a clickable landscape (with ipyevents installed) runs
the optimizers from the exact point clicked; any other control keeps that start until the next click.
"""

import html

from . import mpl


def bind(figure):
    import ipywidgets as W
    data = figure.data()
    widgets, controls = [], []
    for c in data["controls"]:
        options = [(label, j) for j, label in enumerate(c["labels"])]
        if c["kind"] == "hidden":
            w = None
        elif c["kind"] == "toggle":
            w = W.Checkbox(value=bool(c["init"]), description=c["name"], indent=False)
        elif c["kind"] == "buttons":
            w = W.ToggleButtons(options=options, value=c["init"], description=c["name"])
        elif c["kind"] == "dropdown":
            w = W.Dropdown(options=options, value=c["init"], description=c["name"])
        else:
            w = W.SelectionSlider(options=options, value=c["init"], description=c["name"],
                                  continuous_update=True, layout=W.Layout(width="440px"))
        widgets.append(w)
        if w is not None:
            controls.append(w)
    formula = W.HTMLMath()
    image = W.Image(format="png", layout=W.Layout(width="100%", max_width="700px"))
    status = W.HTML()
    state = {"positions": list(figure.initial_positions()), "point": None, "boxes": []}

    fc = data.get("formula_control")

    def redraw(*_):
        positions = state["positions"]
        before = positions[fc] if fc is not None else 0
        for i, w in enumerate(widgets):
            if w is not None:
                positions[i] = int(w.value)
        if fc is not None and positions[fc] != before:
            state["point"] = None  # a clicked start belongs to its landscape
        if state["point"] is not None:
            frame, extra = figure.live_frame(tuple(positions), state["point"])
        else:
            frame, extra = data["frames"][figure.frame_number(positions)], []
        png, state["boxes"] = mpl.render(data, frame, extra)
        image.value = png
        texts, bad = figure.statuses(data, frame, extra)
        color = "#d62728" if bad else "#222"
        status.value = (f'<div class="optlib-status" style="font-family:monospace;color:{color}">'
                        + "<br>".join(html.escape(s) for s in texts) + "</div>")
        name, tex = data["formulas"][positions[fc] if fc is not None else 0] if data.get("formulas") else ("", "")
        formula.value = f"{html.escape(name)}: ${tex}$" if tex else ""

    for w in controls:
        w.observe(redraw, names="value")
    children = [W.HTML(f"<b>{html.escape(data['title'])}</b>")] if data.get("title") else []
    children += [formula, *controls, image, status]
    if data.get("click"):
        hint = _clickable(image, data, state, redraw)
        children.insert(len(children) - 2, hint)
    redraw()
    box = W.VBox(children)
    box.add_class("optlib-live")  # the static player hides itself while this is rendered (figure.py)
    box.redraw = redraw
    return box


def _clickable(image, data, state, redraw):
    """Click on the first panel of the picture -> a new start (needs ipyevents; else a note says so)."""
    import ipywidgets as W
    try:
        from ipyevents import Event
    except ImportError:
        return W.HTML('<span style="color:#666">(install ipyevents to set the start by clicking)</span>')
    event = Event(source=image, watched_events=["click"])

    def on_click(e):
        click_at(state, data, e["relativeX"] / e["boundingRectWidth"], e["relativeY"] / e["boundingRectHeight"])
        redraw()

    event.on_dom_event(on_click)
    image._optlib_event = event  # keep it alive with the image
    return W.HTML('<span style="color:#666">Click on the landscape to start there.</span>')


def click_at(state, data, fx, fy):
    """Turn a click at fractions (fx, fy) of the picture (from its top-left) into a start point."""
    x0, y0, x1, y1 = state["boxes"][data["click"]["panel"]]
    u, v = (fx - x0) / (x1 - x0), ((1 - fy) - y0) / (y1 - y0)
    if not (0 <= u <= 1 and 0 <= v <= 1):
        return
    positions = state["positions"]
    objective_control = data["click"]["objective"]
    oi = positions[objective_control] if objective_control is not None else 0
    scene = data["scenes"][data["click"]["scenes"][oi]]
    x = scene["xr"][0] + u * (scene["xr"][1] - scene["xr"][0])
    y = scene["yr"][0] + v * (scene["yr"][1] - scene["yr"][0])
    dim = len(data["click"]["starts"][oi]) // len(data["controls"][data["click"]["control"]]["labels"])
    state["point"] = [x] if dim == 1 else [x, y]
