"""Which program does each prior select? (`panel serve apps/priors.py`)"""

import panel as pn

from explorer.memory import keep_freed_memory
from explorer.ui.comparison import PriorComparison

keep_freed_memory()

pn.extension("tabulator", sizing_mode="stretch_width")

pn.template.FastListTemplate(
    title="Speed Prior Explorer: the four priors",
    main=[PriorComparison()],
).servable()
