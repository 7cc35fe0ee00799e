"""Panel's own widget round trip, the floor the latency benchmark measures the priors app against:
a slider whose value the server writes back into a text pane, with nothing computed in between."""

import panel as pn

from explorer.ui.serving import configure_app

configure_app()
slider = pn.widgets.FloatSlider(label="Round trip", start=0.0, end=10.0, step=0.05, value=1.0)
echo = pn.pane.Str(pn.bind(lambda v: f"value {v:.2f}", slider))
pn.Column(slider, echo).servable(title="Panel round trip")
