"""The matplotlib renderer: one frame of a figure's data as a PNG (the live widget's picture).

It draws exactly what the data says (ranges, ticks and their labels, background, lines, marks,
legend), like the player does in SVG, so the two pictures agree. Legends go below the panels, never
over the data. The figure is 7 inches at 100 dpi: the site's ~700 px column.
"""

import base64
import io

WIDTH_IN, DPI = 7.0, 100


def _image(uri):
    from matplotlib.image import imread
    head, body = uri.split(",", 1)  # data:image/png;base64,... or data:image/jpeg;base64,...
    return imread(io.BytesIO(base64.b64decode(body)), format=head.split("/")[1].split(";")[0])


def _xy(line):
    from .axes import decode
    return decode(line)


def render(data, frame, extra_lines=(), fmt="png"):
    """``(image bytes, [axes boxes in figure fractions (x0, y0, x1, y1)])`` for one frame (PNG, or `fmt`)."""
    from matplotlib.figure import Figure
    lines = list(data["lines"]) + list(extra_lines)
    scenes = [data["scenes"][p[0]] for p in frame["pan"]]
    height = max(s["h"] for s in scenes) / 100 * 0.72 + 1.35 + 0.18 * len(frame.get("st", []))
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI, layout="constrained")
    axs = fig.subplots(1, len(scenes), width_ratios=[s["w"] for s in scenes], squeeze=False)[0]
    for ax, scene, (_, ids, marks) in zip(axs, scenes, frame["pan"]):
        if scene.get("img"):
            ax.imshow(_image(scene["img"]), extent=(*scene["xr"], *scene["yr"]), aspect="auto",
                      interpolation="bilinear")
        if scene.get("curve") is not None:
            xy = _xy(lines[scene["curve"]])
            ax.plot(xy[:, 0], xy[:, 1], color=lines[scene["curve"]]["c"], lw=1.5)
        for i in ids:
            line = lines[i]
            xy = _xy(line)
            ax.plot(xy[:, 0], xy[:, 1], color=line["c"], lw=line.get("w", 1.5),
                    marker="o" if line.get("m") else None, ms=line.get("m", 0) * 1.6,
                    ls="none" if line.get("nl") else "--" if line.get("dash") else "-")
        for x, y, kind in marks:
            if x is None or y is None:
                continue
            if kind == "start":
                ax.plot(x, y, "o", mfc="white", mec="black", ms=8, zorder=5)
            elif kind == "min":
                ax.plot(x, y, "*", color="black", ms=12, zorder=5)
            else:  # "choice": the current setting on a map
                ax.plot(x, y, "o", mfc="none", mec="white", mew=2.5, ms=11, zorder=5)
                ax.plot(x, y, "o", mfc="none", mec="#d62728", mew=1.5, ms=11, zorder=6)
        ax.set_xlim(*scene["xr"])
        ax.set_ylim(*scene["yr"])
        ax.set_xticks([t[0] for t in scene["xt"]], [t[1] for t in scene["xt"]])
        ax.set_yticks([t[0] for t in scene["yt"]], [t[1] for t in scene["yt"]])
        ax.set_xlabel(scene["xl"])
        ax.set_ylabel(scene["yl"])
        ax.set_title(scene["title"], fontsize=11)
        ax.tick_params(labelsize=9)
        if not scene.get("img"):
            ax.grid(alpha=0.3)
    handles = []
    legend = frame.get("lg", scenes[0].get("lg", []))  # a frame's own legend, else its first scene's
    for label, color, kind in legend:
        style = {"line": {"color": color, "ls": "-", "marker": "o", "ms": 3}, "solid": {"color": color, "ls": "-"},
                 "start": {"ls": "", "marker": "o", "mfc": "white", "mec": "black", "ms": 7},
                 "min": {"ls": "", "marker": "*", "color": "black", "ms": 10},
                 "dash": {"color": color, "ls": "--"}, "dots": {"color": color, "ls": "", "marker": "o", "ms": 3},
                 "choice": {"ls": "", "marker": "o", "mfc": "none", "mec": "#d62728", "mew": 1.5, "ms": 9}}[kind]
        from matplotlib.lines import Line2D
        handles.append(Line2D([], [], label=label, **style))
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 4), fontsize=9, frameon=False)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, **({"pil_kwargs": {"quality": 80}} if fmt == "jpeg" else {}))
    boxes = [tuple(ax.get_position().bounds) for ax in axs]
    boxes = [(x, y, x + w, y + h) for x, y, w, h in boxes]
    return buf.getvalue(), boxes
