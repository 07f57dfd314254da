"""The base of every interactive figure: a data description, shown three ways.

A figure is a plain, JSON-ready dict (:meth:`Figure.data`) that holds every decision: the controls,
the scenes (axis ranges, ticks, labels, background picture), the lines, and for every combination of
the controls a frame (which lines on which scene, the status text, the legend). Three small renderers
read it: :mod:`.mpl` (a PNG, for the live widget), :mod:`.player` (the kernel-free HTML + JavaScript
player) and :mod:`.live` (the ipywidgets binding).

How it displays in a notebook (``_ipython_display_``): two outputs,

1. ``text/html``: the static player; it needs no kernel and no widget model;
2. the live widget: ``application/vnd.jupyter.widget-view+json`` with a ``text/html`` stand-in.

Why two outputs and not one bundle with both mime types: JupyterLab renders one mime type per output,
``RenderMimeRegistry.preferredMimeType(data, trusted ? "any" : "ensure")``: the first in its renderers'
rank order that the output has (untrusted: the first whose renderer is safe). jupyterlab_widgets 3.0 (ipywidgets 8.1)
registers its renderer for the widget-view type at rank -10, ahead of text/html (rank 50), as an
unsafe renderer (``safe: false``). So in a trusted notebook (a notebook JupyterLab saved is signed,
hence trusted when reopened) the widget view always wins, and when its model is missing the
renderer (``WidgetRenderer.renderModel``) does not fall back: it writes "Loading widget..." (no kernel)
or, once the manager has restored its state, "Error displaying widget: model not found". The
text/html of the same output is never consulted. (Untrusted, the unsafe renderer is skipped and the
text/html shows, sanitized, its scripts not run: then the player's still picture of its first frame
is what shows.)

Hence the player is an output of its own, always rendered. Its script watches its cell's output area:
while the live widget is rendered (its box carries the class ``optlib-live``) it hides itself, so a
running notebook shows one figure; when the widget output shows the renderer's "Loading widget..." or
"Error displaying widget..." text instead, it hides that output and stays visible. On the static site
the book's ``nb_mime_priority_overrides`` drop the widget view and the stand-in html is empty.
"""

import json

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
MAX_BYTES = 1_000_000  # precomputed data per figure: keeps a page light


class Figure:
    """A figure described by data; subclasses implement :meth:`build` (and may override ``live_frame``)."""

    title = ""

    def build(self):
        raise NotImplementedError

    def data(self):
        """The whole description, JSON-ready (built once)."""
        if getattr(self, "_data", None) is None:
            data = self.build()
            size = len(json.dumps(data, separators=(",", ":"), allow_nan=False))
            if size > MAX_BYTES:
                raise ValueError(f"the figure's precomputed data is {size / 1e6:.2f} MB, over {MAX_BYTES / 1e6:g} MB: "
                                 "use fewer slider values, starts or steps")
            self._data = data
        return self._data

    def frame_number(self, positions):
        """The frame index of a tuple of control positions (mixed radix, first control slowest)."""
        k = 0
        for c, i in zip(self.data()["controls"], positions):
            k = k * len(c["labels"]) + i
        return k

    def initial_positions(self):
        return tuple(c["init"] for c in self.data()["controls"])

    @staticmethod
    def statuses(data, frame, extra_lines=()):
        """A frame's status lines and whether any is bad: its own ``st``/``bad``, else those of the
        lines on its first panel (the explorer stores each run's status once, with its line)."""
        if "st" in frame:
            return frame["st"], bool(frame.get("bad"))
        lines = list(data["lines"]) + list(extra_lines)
        shown = [lines[i] for i in frame["pan"][0][1]]
        return [line["s"] for line in shown], any(line.get("b") for line in shown)

    # -- the three forms ---------------------------------------------------------------------------
    def to_html(self):
        """The self-contained kernel-free player, with a still picture of its first frame for where its
        script does not run (an untrusted notebook: JupyterLab sanitizes the html and drops scripts)."""
        import base64

        from . import mpl, player
        data = self.data()
        jpeg = mpl.render(data, data["frames"][self.frame_number(self.initial_positions())], fmt="jpeg")[0]
        return player.to_html(data, still="data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii"))

    def png(self, positions=None):
        """The live picture of one frame (default: the initial one), as PNG bytes."""
        from . import mpl
        data = self.data()
        k = self.frame_number(positions if positions is not None else self.initial_positions())
        return mpl.render(data, data["frames"][k])[0]

    def widget(self):
        """The live ipywidgets figure (built once)."""
        if getattr(self, "_widget", None) is None:
            from . import live
            self._widget = live.bind(self)
        return self._widget

    def live_frame(self, positions, point):
        """The frame for control `positions` started at `point` (a click in the live figure): subclasses
        with a clickable start override this; returns ``(frame, extra_lines)``."""
        raise NotImplementedError

    # -- display -------------------------------------------------------------------------------
    def display_bundles(self):
        """The outputs ``_ipython_display_`` publishes, in order (see the module docstring)."""
        bundles = [{"text/plain": repr(self), "text/html": self.to_html()}]
        try:
            view = self.widget()._repr_mimebundle_()
        except ImportError:  # no ipywidgets: the player alone
            return bundles
        bundles.append({"text/plain": repr(self), WIDGET_VIEW: view[WIDGET_VIEW],
                        "text/html": "<!-- optlib: the live figure; the player above stands in for it -->"})
        return bundles

    def _ipython_display_(self):
        from IPython.display import display
        for bundle in self.display_bundles():
            display(bundle, raw=True)

    def _repr_html_(self):  # for frontends that call neither of the above (e.g. a plain nbconvert)
        return self.to_html()
