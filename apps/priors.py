"""Which program does each prior select? (`panel serve apps/priors.py`)"""

import panel as pn

from explorer.ui.comparison import PriorComparison

pn.extension("tabulator", sizing_mode="stretch_width")

pn.template.FastListTemplate(
    title="Speed Prior Explorer: the four priors",
    main=[PriorComparison()],
).servable()
