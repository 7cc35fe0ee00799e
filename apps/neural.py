"""The neural world: train networks under a speed prior in the background, with a story beside them (served at /neural)."""

import panel as pn

from explorer.ui.neural_view import NeuralView
from explorer.ui.serving import configure_app
from explorer.worlds.neural.session import SERVED

configure_app()
view = NeuralView(limits=SERVED)
pn.template.FastListTemplate(
    title="Speed Prior Explorer: neural networks under a speed prior",
    main=[view],
).servable()
