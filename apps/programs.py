"""The enumerated world: every program of a tiny machine, measured, with each prior's pick (served at /programs)."""

import panel as pn

from explorer.ui.programs_view import ProgramsView
from explorer.ui.serving import configure_app

configure_app()
pn.template.FastListTemplate(
    title="Speed Prior Explorer: real programs of a tiny machine",
    main=[ProgramsView.from_link()],  # the link's settings, measured once; the link then follows the page
).servable()
