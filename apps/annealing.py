"""Proposal 0, computational annealing: one search animated, many summarised (served at /annealing)."""

import panel as pn

from explorer.ui.annealing_view import AnnealingView
from explorer.ui.serving import configure_app

configure_app()
view = AnnealingView.from_link()  # the link's settings, traced once; the link then follows the page
template = pn.template.FastListTemplate(
    title="Speed Prior Explorer: computational annealing",
    main=[view],
)
template.servable()
