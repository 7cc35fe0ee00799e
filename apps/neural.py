"""The neural world: train networks under a speed prior in the background, with a story beside them (served at /neural).

Its link carries every setting (`?proposal=early-exit&bits=5&steps=300`): read when the page opens, with
one message about what could not be used (a value over the served limits names the limit), and written
back as the settings change."""

import panel as pn

from explorer.ui.neural_view import LINK_PARAMS, NeuralView
from explorer.ui.serving import configure_app
from explorer.ui.url import sync_params
from explorer.worlds.neural.session import SERVED

configure_app()
view = NeuralView(limits=SERVED)
sync_params(view.setup, LINK_PARAMS, view.notify, limits=view.caps)
pn.template.FastListTemplate(
    title="Speed Prior Explorer: neural networks under a speed prior",
    main=[view],
).servable()
