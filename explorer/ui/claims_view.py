"""The claims matrix on a page (/claims): every scenario's claim in every world it is checked in, at a glance.

The picture is a heat map, claims (scenario titles) down the side and worlds across, each cell coloured by the
share of runs (seeds x parameter perturbations) in which the claim's checks all held, grey where a claim is
not checked in that world or nothing ran. Each cell carries a letter: C when the world decides the claim by
construction (its rules make the checks come out so whatever the draw), M when it measures (programs are run
or trained, and the outcome could have gone either way). Hovering a cell shows its share, runs, how it is
decided and why, and the breakpoints nearest the scenario's values; a click on it, or its row in the table
beneath, opens that scenario at those settings in the world's app (`cell_link`).

The page opens on the recorded matrix (explorer.claims.RECORDED, written by `python -m explorer claims
--json`) and can recompute it with fewer seeds in a background thread, with progress and Stop, the way the
story editor runs its sweeps (explorer/ui/sweep_map.py). Titles, reasons and check texts come from scenario
files: they reach the page only as escaped text (explorer/ui/markup.py) or as Bokeh data, which its
tooltips escape.
"""

from __future__ import annotations

from functools import partial
from urllib.parse import urlencode

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  registers the bokeh plotting back end for .opts
import numpy as np
import pandas as pd
import panel as pn
import param
from bokeh.models import CustomJS, TapTool

from explorer.claims import ClaimCell, ClaimsMatrix, load_recorded, run_claims
from explorer.errors import ExplorerError
from explorer.scenarios import preset_params, scenarios_of
from explorer.simulation import PRIOR_PARAMS, WORLD_PARAMS
from explorer.ui import markup
from explorer.ui.neural_view import LINK_PARAMS as NEURAL_LINK
from explorer.ui.page_thread import Worker, on_page, progress_reporter
from explorer.ui.programs_view import LINK as PROGRAMS_LINK
from explorer.ui.url import SAFE, value_text
from explorer.worlds import WORLDS

#: Each world's app and the settings its link reads (None: the priors app's scenario and simulation settings).
WORLD_APPS = {"abstract": ("priors", None), "enumerated": ("programs", PROGRAMS_LINK), "neural": ("neural", NEURAL_LINK)}
#: How a world decides a claim, as the letter in its cell and in words.
BY_LETTER = {"construction": "C", "measurement": "M"}
BY_WORDS = {"construction": "by construction", "measurement": "measured"}
#: Share held, 0 to 1, on a sequential map readable with the common colour-vision deficiencies; grey: no share.
CMAP = "cividis"
NO_SHARE = "#d9d9d9"
#: Cells darker than this share get white letters (cividis is dark at 0, light at 1).
DARK_BELOW = 0.55
#: Longest claim title on the picture's axis (the whole title is in the tooltip and the table).
AXIS_TITLE_CHARS = 38
#: Longest reason in a tooltip (the whole reason is in the table).
TOOLTIP_CHARS = 90
#: Most seeds a served page recomputes with (the recorded matrix has more: the command line's job).
SERVED_MAX_SEEDS = 20
PROGRESS_INTERVAL = 0.2
ROW_HEIGHT = 30
#: A click on a cell opens its link (the page's own tab, as the table's links do); a grey cell has none.
TAP_JS = """
const source = cb_data.source;
const i = source.selected.indices[0];
if (i === undefined) return;
const url = source.data.link[i];
if (url) window.location.href = url;
"""


# ---- links --------------------------------------------------------------------------------------

def cell_link(cell: ClaimCell) -> str:
    """The relative link that opens `cell`'s scenario at its world's settings in that world's app ("" for a
    world without an app). Abstract: /priors?scenario=ID (with any setting the cell changes from the
    preset; a scenario of another world gives its abstract settings alone). Enumerated and neural: the
    settings of the cell that the app's link reads."""
    if cell.world not in WORLD_APPS:
        return ""
    app, names = WORLD_APPS[cell.world]
    params = dict(cell.params or {})
    if names is None:
        own = cell.scenario in scenarios_of("abstract")
        preset = preset_params(cell.scenario) if own else {}
        pairs = [("scenario", cell.scenario)] if own else []
        pairs += [(k, value_text(v)) for k, v in params.items()
                  if k in (*WORLD_PARAMS, *PRIOR_PARAMS) and (k not in preset or preset[k] != v)]
    else:
        pairs = [(k, value_text(params[k])) for k in names if k in params]
    return app + ("?" + urlencode(pairs, safe=SAFE) if pairs else "")


# ---- the picture --------------------------------------------------------------------------------

def _cut(text: str, most: int) -> str:
    return text if len(text) <= most else text[:most - 1] + "…"


def _share(holds: float | None) -> str:
    return "nothing ran" if holds is None else f"{holds:.0%}"


def _breakpoints(cell: ClaimCell) -> str:
    """`name = value` per parameter searched, 'none in range' where the claim never flips ('' if none searched)."""
    return "; ".join(f"{k} = {v:.4g}" if isinstance(v, (int, float)) else f"{k}: none in range"
                     for k, v in (cell.breakpoints or {}).items())


def claim_labels(matrix: ClaimsMatrix) -> dict[str, str]:
    """Each scenario's row label, in the matrix's order: its title cut for the axis, unique (an id is added
    where two titles would read the same)."""
    titles: dict[str, str] = {}
    for cell in matrix.cells:
        titles.setdefault(cell.scenario, cell.title or cell.scenario)
    cut = {s: _cut(t, AXIS_TITLE_CHARS) for s, t in titles.items()}
    seen = list(cut.values())
    return {s: (c if seen.count(c) == 1 else f"{c} ({s})") for s, c in cut.items()}


def worlds_of(matrix: ClaimsMatrix) -> list[str]:
    """The worlds with a cell, in the registry's order (then any other)."""
    present = {c.world for c in matrix.cells}
    return [w for w in WORLDS if w in present] + sorted(present - set(WORLDS))


def matrix_frame(matrix: ClaimsMatrix) -> pd.DataFrame:
    """One row per claim and world, checked or not: what the picture draws and its tooltip shows."""
    labels, worlds = claim_labels(matrix), worlds_of(matrix)
    cells = {(c.scenario, c.world): c for c in matrix.cells}
    rows = []
    for scenario, label in labels.items():
        for world in worlds:
            cell = cells.get((scenario, world))
            if cell is None:
                rows.append({"world": world, "claim": label, "holds": np.nan, "mark": "", "share": "not checked",
                             "runs": 0, "by": "not checked in this world", "why": "", "breakpoints": "",
                             "title": label, "link": ""})
                continue
            rows.append({"world": world, "claim": label,
                         "holds": np.nan if cell.holds is None else float(cell.holds),
                         "mark": f"{BY_LETTER.get(cell.by, '?')} {_share(cell.holds) if cell.holds is not None else '–'}",
                         "share": _share(cell.holds), "runs": int(cell.runs),
                         "by": BY_WORDS.get(cell.by, str(cell.by)) + ("" if cell.stated else " (the file does not say)"),
                         "why": _cut(cell.reason or "", TOOLTIP_CHARS), "breakpoints": _breakpoints(cell) or "none searched",
                         "title": cell.title or scenario, "link": cell_link(cell)})
    return pd.DataFrame(rows, columns=["world", "claim", "holds", "mark", "share", "runs", "by", "why",
                                       "breakpoints", "title", "link"])


def _clickable(plot, element) -> None:
    """A tap on a cell opens its link (HoloViews hook: the heat map's renderer only, not the letters)."""
    renderer = plot.handles["glyph_renderer"]
    plot.state.add_tools(TapTool(renderers=[renderer], callback=CustomJS(code=TAP_JS)))


def matrix_plot(matrix: ClaimsMatrix) -> hv.Overlay:
    """The heat map of `matrix` with its C/M letters (see the module docstring)."""
    frame = matrix_frame(matrix)
    labels = list(claim_labels(matrix).values())
    worlds = worlds_of(matrix)
    kdims = [hv.Dimension("world", label="world", values=worlds),
             hv.Dimension("claim", label="claim", values=labels[::-1])]  # the first claim at the top
    vdims = [hv.Dimension("holds", label="share held", range=(0, 1)), "share", "runs", "by", "why",
             "breakpoints", "title", "link"]
    tooltips = [("claim", "@title"), ("world", "@world"), ("holds", "@share of @runs runs"), ("decided", "@by"),
                ("why", "@why"), ("breakpoints", "@breakpoints")]
    heat = hv.HeatMap(frame, kdims=kdims, vdims=vdims).opts(
        cmap=CMAP, clim=(0, 1), colorbar=True, clipping_colors={"NaN": NO_SHARE}, line_color="white",
        line_width=2, default_tools=[], tools=["hover"], hover_tooltips=tooltips, hooks=[_clickable],
        colorbar_opts={"title": "share of runs that hold"}, xaxis="top", toolbar=None)
    letters = []
    dark = frame["holds"].notna() & (frame["holds"] < DARK_BELOW)
    for part, colour in ((frame[dark], "white"), (frame[~dark], "black")):
        letters.append(hv.Labels(part[part["mark"] != ""], kdims=["world", "claim"], vdims=["mark"]).opts(
            text_color=colour, text_font_size="11pt"))
    height = 90 + ROW_HEIGHT * max(len(labels), 1)
    return hv.Overlay([heat, *letters]).opts(responsive=True, height=height, xlabel="", ylabel="",
                                             title="", show_legend=False)


# ---- the table ----------------------------------------------------------------------------------

def cells_table(matrix: ClaimsMatrix) -> str:
    """An HTML table of every cell, its link, share, how it is decided and why, breakpoints and failing
    checks; every text from a scenario file is escaped (the pane sanitises the whole again)."""
    t = markup.html_text
    rows = []
    for cell in matrix.cells:
        link = cell_link(cell)
        name = t(cell.title or cell.scenario)
        title = f'<a href="{t(link)}">{name}</a>' if link else name
        failing = "; ".join(t(f, limit=300) for f in (cell.failing or [])[:5])
        notes = "".join(f"<br><small><i>{t(n, limit=300)}</i></small>" for n in cell.notes[:3])
        rows.append(
            f"<tr><td>{title}<br><small>{t(cell.scenario)}</small></td><td>{t(cell.world)}</td>"
            f"<td>{t(_share(cell.holds))}<br><small>of {int(cell.runs)} runs</small></td>"
            f"<td><b>{t(BY_LETTER.get(cell.by, '?'))}</b> {t(BY_WORDS.get(cell.by, cell.by))}<br>"
            f"<small>{t(cell.reason, limit=600)}</small>{notes}</td>"
            f"<td><small>{t(_breakpoints(cell) or 'none searched')}</small></td>"
            f"<td><small>{failing or 'none'}</small></td></tr>")
    head = "".join(f"<th>{h}</th>" for h in ("Claim (opens its app)", "World", "Holds", "Decided", "Breakpoints",
                                             "Checks that failed in some run"))
    return (f'<table class="claims-table" style="width: 100%; font-size: 13px;"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def describe(matrix: ClaimsMatrix | None, recorded: bool) -> str:
    """What the matrix on show is and how it was computed, in plain words (escape before showing)."""
    if matrix is None:
        return ("No matrix is recorded yet (python -m explorer claims --json > assets/claims/matrix.json "
                "records one); press Recompute.")
    where = "Recorded matrix (assets/claims/matrix.json)" if recorded else "Matrix recomputed on this page"
    stopped = "" if matrix.complete else f", stopped early: {len(matrix.cells)} cells"
    seeds = f"{matrix.seeds} seed{'' if matrix.seeds == 1 else 's'}"
    if any(0 < c.seeds < matrix.seeds for c in matrix.cells):
        seeds += " (fewer in some cells: see their notes)"
    return (f"{where}: {len(matrix.cells)} cells, {seeds}, parameters perturbed by up to "
            f"{matrix.perturb:.0%}, computed in {matrix.elapsed_s:,.0f} s by code version {matrix.code_version}"
            f"{stopped}.")


# ---- the page -----------------------------------------------------------------------------------

class ClaimsView(pn.viewable.Viewer):
    """The recorded claims matrix, its picture and table, and a recompute with progress and Stop."""

    matrix = param.ClassSelector(class_=ClaimsMatrix, allow_None=True, doc="The matrix on show.")
    recorded = param.Boolean(True, doc="Whether the matrix on show is the recorded one.")
    worlds = param.ListSelector(default=["abstract"], objects=list(WORLDS), label="Worlds",
                                doc="The worlds a recompute checks (the neural world trains networks: minutes).")
    seeds = param.Integer(3, bounds=(1, SERVED_MAX_SEEDS), label=f"Seeds (at most {SERVED_MAX_SEEDS} here)",
                          doc="Random draws per claim; each is also run at perturbed parameter values.")
    perturb = param.Number(0.1, bounds=(0.0, 0.5), step=0.05, label="Perturbation",
                           doc="Largest relative change of each numeric parameter in the perturbed runs.")
    breakpoints = param.Boolean(False, label="Search breakpoints (slow)",
                                doc="Also search each parameter's whole range for where the claim flips.")

    running = param.Boolean(False, doc="True while a recompute runs.")
    done = param.Integer(0)
    total = param.Integer(0)
    message = param.String("", doc="Why the last recompute did not run or did not finish.")

    def __init__(self, matrix: ClaimsMatrix | None = None, load: bool = True, **params):
        """`matrix` to show (default: the recorded one, when `load`)."""
        if matrix is None and load:
            matrix = load_recorded()
        super().__init__(matrix=matrix, **params)
        self._worker = Worker("claims-matrix")
        self._run_button = pn.widgets.Button(label="Recompute", color="primary", sizing_mode="stretch_width",
                                             description="Run every claim in the chosen worlds again, here.")
        self._stop_button = pn.widgets.Button(label="Stop", color="warning", disabled=True, sizing_mode="stretch_width",
                                              description="Stop after the run under way; the cells done are shown.")
        self._progress = pn.indicators.Progress(value=0, max=1, bar_color="primary", visible=False,
                                                sizing_mode="stretch_width")
        self._run_button.on_click(lambda event: self.recompute())
        self._stop_button.on_click(lambda event: self.stop())

    # ---- recomputing -------------------------------------------------------------------------------

    def recompute(self, sync: bool | None = None) -> ClaimsMatrix | None:
        """Run the claims of the chosen worlds: in a background thread on a server (sync=None), else here."""
        if self.running:
            return None
        if not self.worlds:
            self.message = "Worlds: choose at least one world to recompute."
            return None
        doc = pn.state.curdoc
        if sync is None:
            sync = doc is None or doc.session_context is None
        if not sync:
            self._worker.stop_with(doc)  # a closed tab stops its run
        self._worker.begin()
        self.param.update(message="", running=True, done=0, total=0)
        job = partial(run_claims, worlds=list(self.worlds), seeds=self.seeds, perturb=self.perturb, workers=1,
                      breakpoints=self.breakpoints, should_stop=self._worker.should_stop)
        if sync:
            return self._run(job, None)
        self._worker.start(self._run, job, doc)
        return None

    def stop(self) -> None:
        self._worker.stop()

    def wait(self, timeout: float | None = None) -> bool:
        return self._worker.wait(timeout)

    def _run(self, job, doc) -> ClaimsMatrix | None:
        progress = progress_reporter(doc, lambda done, total: self.param.update(done=done, total=total),
                                     PROGRESS_INTERVAL)
        try:
            matrix = self._worker.pooled(lambda: job(progress=progress))  # in the server's line for heavy work
        except ExplorerError as exc:
            on_page(doc, partial(self._finish, None, str(exc)))
            return None
        except Exception as exc:  # a programming error: say so on the page, keep the traceback
            on_page(doc, partial(self._finish, None, f"The recompute failed: {exc!r}"))
            raise
        note = "" if matrix.complete else "Stopped: the cells finished before Stop are shown."
        on_page(doc, partial(self._finish, matrix, note))
        return matrix

    def _finish(self, matrix: ClaimsMatrix | None, message: str) -> None:
        with param.parameterized.batch_call_watchers(self):
            if matrix is not None:
                self.param.update(matrix=matrix, recorded=False)
            self.param.update(message=message, running=False)

    @param.depends("running", "done", "total", watch=True, on_init=True)
    def _widgets(self):
        if not hasattr(self, "_run_button"):
            return
        self._run_button.disabled = self.running
        self._stop_button.disabled = not self.running
        self._progress.param.update(max=max(self.total, 1), value=min(self.done, max(self.total, 1)),
                                    visible=self.running or self.total > 0)

    # ---- drawing -----------------------------------------------------------------------------------

    @param.depends("matrix", "recorded", "running", "done", "total", "message")
    def _status(self):
        text = describe(self.matrix, self.recorded)
        if self.running:
            text = f"Recomputing: {self.done} of {self.total or '?'} runs. " + text
        elif self.message:
            text = self.message + " " + text
        legend = ("Colour: share of runs (seeds x perturbed parameters) in which every check of the claim held; "
                  "grey: not checked in that world. C: the world decides the claim by construction; "
                  "M: measured. Click a cell, or a claim in the table, to open it in its app.")
        return markup.html(f"<p>{markup.html_text(text)}</p><p><small>{markup.html_text(legend)}</small></p>",
                           sizing_mode="stretch_width", css_classes=["claims-status"])

    @param.depends("matrix")
    def _picture(self):
        if self.matrix is None or not self.matrix.cells:
            return markup.html("<p>No cells to draw.</p>", sizing_mode="stretch_width")
        return pn.pane.HoloViews(matrix_plot(self.matrix), sizing_mode="stretch_width", css_classes=["claims-matrix"])

    @param.depends("matrix")
    def _table(self):
        if self.matrix is None or not self.matrix.cells:
            return markup.html("", sizing_mode="stretch_width")
        return markup.html(cells_table(self.matrix), sizing_mode="stretch_width")

    def sidebar(self) -> pn.Column:
        """The recompute's settings, Recompute and Stop, and its progress."""
        return pn.Column(
            markup.markdown("### Recompute"),
            pn.widgets.CheckBoxGroup.from_param(self.param.worlds, inline=False),
            pn.widgets.IntInput.from_param(self.param.seeds),
            pn.widgets.FloatInput.from_param(self.param.perturb),
            pn.widgets.Checkbox.from_param(self.param.breakpoints),
            pn.Row(self._run_button, self._stop_button), self._progress, sizing_mode="stretch_width")

    def main(self) -> pn.Column:
        return pn.Column(self._status, self._picture, self._table, sizing_mode="stretch_width")

    def __panel__(self):
        return pn.Row(self.sidebar(), self.main(), sizing_mode="stretch_width")
