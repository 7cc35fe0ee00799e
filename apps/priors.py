"""Which program does each prior select? (served at /priors)"""

import panel as pn

from explorer.ui.dashboard import PriorsDashboard
from explorer.ui.serving import configure_app, max_programs
from explorer.ui.url import sync_url

configure_app()
dashboard = PriorsDashboard(max_programs=max_programs())
sync_url(dashboard)
pn.template.FastListTemplate(
    title="Speed Prior Explorer: which program does each prior select?",
    sidebar=[dashboard.sidebar()],
    main=[dashboard.main()],
).servable()
