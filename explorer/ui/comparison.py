"""The four priors side by side: which program each selects, and its posterior mass per kind.

A Viewer over a core Simulation: the same object shows in a served app, a notebook cell and a test.
A value the core rejects is shown as a message and the last good selection stays on screen.
"""

from __future__ import annotations

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (registers the bokeh plotting back end for .opts)
import pandas as pd
import panel as pn
import param

from explorer.errors import ExplorerError
from explorer.priors import PRIORS, PriorSettings
from explorer.scenarios import SCENARIOS
from explorer.simulation import Simulation
from explorer.table import KINDS
from explorer.worlds.abstract import AbstractWorld

#: Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
KIND_COLORS = {"honest": "#0072B2", "goof_off": "#E69F00", "deceptive": "#D55E00", "lookup": "#009E73"}

CONTROLS = ("w_simplicity", "w_max", "w_avg", "misbehaviour_cost", "deception_overhead", "performance_threshold")


class PriorComparison(pn.viewable.Viewer):
    """Pick a scenario, move the weights, and watch the four priors' selections change."""

    scenario = param.Selector(default="goof-off", objects=list(SCENARIOS), doc="Preset to start from.")
    w_simplicity = param.Number(1.0, bounds=(0.0, 10.0), step=0.05, label="Simplicity weight (per bit)", doc=PriorSettings.param.w_simplicity.doc)
    w_max = param.Number(1.0, bounds=(0.0, 10.0), step=0.05, label="Max-compute weight", doc=PriorSettings.param.w_max.doc)
    w_avg = param.Number(1.0, bounds=(0.0, 10.0), step=0.05, label="Average-compute weight", doc=PriorSettings.param.w_avg.doc)
    misbehaviour_cost = param.Number(1.0, bounds=(0.0, 10.0), step=0.1, label="Goof-off misbehaviour cost", doc=AbstractWorld.param.misbehaviour_cost.doc)
    deception_overhead = param.Number(1.0, bounds=(0.0, 10.0), step=0.1, label="Deception overhead per task", doc=AbstractWorld.param.deception_overhead.doc)
    performance_threshold = param.Number(0.9, bounds=(0.0, 1.0), step=0.01, label="Looks good at train performance ≥", doc=PriorSettings.param.performance_threshold.doc)

    results = param.Dict(default={}, doc="Each prior's PriorResult.to_dict() for the current settings.")
    message = param.String(default="", doc="Why the last change was not applied, if it was not.")

    def __init__(self, n_programs: int = 100_000, **params):
        super().__init__(**params)
        self.simulation = Simulation(n_programs=n_programs)
        self._load_scenario()

    @param.depends("scenario", watch=True)
    def _load_scenario(self):
        preset = SCENARIOS[self.scenario]
        defaults = {**{n: AbstractWorld.param[n].default for n in AbstractWorld.param if n != "name"},
                    **{n: PriorSettings.param[n].default for n in PriorSettings.param if n != "name"}}
        defaults.pop("n_programs")
        values = {**defaults, **preset.params}
        self.simulation.update(**values)
        with param.parameterized.batch_call_watchers(self):
            self.param.update({n: values[n] for n in CONTROLS})
        self._recompute()

    @param.depends(*CONTROLS, watch=True)
    def _recompute(self):
        try:
            self.simulation.update(**{n: getattr(self, n) for n in CONTROLS})
            results = self.simulation.select()
        except ExplorerError as exc:
            self.message = str(exc)
            return
        self.message = ""
        self.results = {p: r.to_dict() for p, r in results.items()}

    def frame(self) -> pd.DataFrame:
        """One row per prior: the MAP program and posterior mass per kind."""
        rows = []
        for prior in PRIORS:
            r = self.results[prior]
            m = r["map"] or {}
            rows.append({"prior": prior, "MAP kind": m.get("kind", "none"), "avg compute": m.get("avg_compute"),
                         "max compute": m.get("max_compute"), "bits": m.get("bits"),
                         **{k: r["mass"][k] for k in KINDS}, "actually good": r["actually_good"]})
        return pd.DataFrame(rows)

    @param.depends("results")
    def _bars(self):
        data = [(prior, kind, self.results[prior]["mass"][kind]) for prior in PRIORS for kind in KINDS]
        bars = hv.Bars(data, kdims=["prior", "kind"], vdims=[hv.Dimension("mass", range=(0, 1))])
        return bars.opts(stacked=True, cmap=KIND_COLORS, color="kind", height=320, responsive=True,
                         title="Posterior mass per kind", tools=["hover"], legend_position="right")

    @param.depends("results")
    def _table(self):
        return pn.widgets.Tabulator(self.frame(), show_index=False, disabled=True, sizing_mode="stretch_width",
                                    formatters={c: {"type": "money", "precision": 3} for c in ["avg compute", "max compute", "bits", *KINDS, "actually good"]})

    @param.depends("message")
    def _message(self):
        return pn.pane.Alert(self.message, alert_type="danger", visible=bool(self.message))

    def __panel__(self):
        controls = pn.Param(self.param, parameters=["scenario", *CONTROLS], show_name=False, width=300,
                            widgets={n: {"type": pn.widgets.FloatSlider} for n in CONTROLS})
        scenario = pn.bind(lambda s: pn.pane.Markdown(f"**{SCENARIOS[s].title}.** {SCENARIOS[s].claim}"), self.param.scenario)
        return pn.Row(controls, pn.Column(scenario, self._message, self._table, self._bars, sizing_mode="stretch_width"),
                      sizing_mode="stretch_width")
