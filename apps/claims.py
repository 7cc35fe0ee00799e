"""Every claim in every world, with the share of runs where it holds (served at /claims)."""

import panel as pn

from explorer.ui.claims_view import ClaimsView
from explorer.ui.serving import COMPACT_HEADER_CSS, configure_app

configure_app()
view = ClaimsView()  # the recorded matrix, at once; Recompute runs a smaller one in the background
template = pn.template.FastListTemplate(
    title="Speed Prior Explorer: every claim, in every world",
    sidebar=[view.sidebar()],
    main=[view.main()],
    sidebar_width=260,
)
template.config.raw_css.append(COMPACT_HEADER_CSS)
template.servable()
