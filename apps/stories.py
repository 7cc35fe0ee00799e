"""Training stories: open, edit, check and save the stories of the library (served at /stories).

`?story=NAME` opens a story of the library (assets/stories, or the folder EXPLORER_STORY_LIBRARY names).
"""

import panel as pn

from explorer.ui.serving import configure_app
from explorer.ui.story_editor import StoryEditor, sync_url

configure_app()
editor = StoryEditor()
sync_url(editor)
pn.template.FastListTemplate(
    title="Speed Prior Explorer: training stories",
    main=[editor],
).servable()
