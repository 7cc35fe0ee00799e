"""Which program does each prior select? (served at /priors)"""

import panel as pn

from explorer.ui.dashboard import PriorsDashboard
from explorer.ui.serving import COMPACT_HEADER_CSS, configure_app, max_programs
from explorer.ui.url import sync_url

configure_app()
dashboard = PriorsDashboard(max_programs=max_programs())
sync_url(dashboard)
template = pn.template.FastListTemplate(
    title="Speed Prior Explorer: which program does each prior pick?",
    sidebar=[dashboard.sidebar()],  # the presenter's: its labels stay at the usual size, so none is cut
    main=[dashboard.main()],
    sidebar_width=280,
)
template.config.raw_css.append(COMPACT_HEADER_CSS)
template.servable()
