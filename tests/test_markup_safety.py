"""No text from a user becomes markup, in any app.

Each app is built the way its page builds it, with hostile text in every input it has: the link, the
story library (titles, claims, ids, the narrative), the tour, typed widgets and the error messages that
quote all of them. Then two things are checked:

1. every Markdown or HTML pane on the page is one that explorer.ui.markup makes (Markdown with raw HTML
   off; HTML sanitised by nh3), so no pane can be handed raw markup by a code path nobody thought of;
2. every HTML model in the rendered Bokeh document, which is what the browser puts into innerHTML,
   holds only allow-listed tags and attributes, and the hostile text is in it as visible text.

Hypothesis then feeds links made of markup to the priors dashboard and checks its message the same way.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser
from urllib.parse import urlencode

import panel as pn
import pytest
from bokeh.document import Document
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from story_texts import story

from explorer.stories.library import StoryLibrary
from explorer.ui import markup
from explorer.ui.annealing_view import AnnealingView
from explorer.ui.dashboard import PriorsDashboard
from explorer.ui.neural_view import NeuralView
from explorer.ui.programs_view import ProgramsView
from explorer.ui.story_editor import StoryEditor
from explorer.ui.url import apply_query, link_message
from explorer.worlds.neural.session import SERVED

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"
SVG = '"><svg onload=alert(3)>'
LINK = "[click](javascript:alert(4))"
HOSTILE = f"{IMG} {SCRIPT} {SVG} {LINK}"
#: The link of the issue, and friends: markup as a scenario, a value, a parameter name, a mapping key.
HOSTILE_QUERY = urlencode([("scenario", IMG), ("w_avg", SCRIPT), (IMG, "1"), ("kind_mix", f"{SVG}:1"),
                           ("seed", LINK)])


def hostile_story() -> str:
    quoted = HOSTILE.replace("'", "''")
    return story(quoted, quoted, body=f"{HOSTILE}\n\n# {IMG}\n", evidence_id="E1")


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> StoryLibrary:
    """A story library whose every story (the preset's, the fallback, and a broken one) is hostile."""
    folder = tmp_path_factory.mktemp("hostile-library")
    (folder / "scenarios").mkdir()
    for name in ("scenarios/goof-off", "speed-prior", "neural/halting", "programs/parity"):
        path = folder / f"{name}.story.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(hostile_story(), encoding="utf-8")
    (folder / "broken.story.md").write_text(f"---\ntitle: [{IMG}\n---\n{SCRIPT}\n", encoding="utf-8")
    return StoryLibrary(folder)


# ---- each app, built with hostile text in every input ------------------------------------------------

def priors_app(library):
    dashboard = PriorsDashboard(n_programs=2000, story_library=library)
    dashboard.show_message(link_message(apply_query(dashboard, HOSTILE_QUERY)))
    dashboard.start_tour()
    dashboard.regime_map.message = HOSTILE
    return pn.Row(dashboard.sidebar(), dashboard.main(), dashboard._tour_slot, dashboard.snapshot())


def stories_app(library):
    editor = StoryEditor(library=library)
    editor.open("speed-prior")
    editor.show_alert(HOSTILE)
    second = StoryEditor(library=library)
    second.open("broken")  # the located messages of a file that does not load quote the file
    return pn.Row(editor, second)


def neural_app(library):
    view = NeuralView(limits=SERVED, story_library=library)
    view.notify(HOSTILE)
    return view


def programs_app(library):
    view = ProgramsView(story_library=library, max_length=3)
    view.trace_input = HOSTILE  # not bits: the message quotes it
    view.message = HOSTILE
    return view


def annealing_app(library):
    view = AnnealingView(n_programs=2000)
    view.message = HOSTILE
    view.mc_status = HOSTILE
    return view


APPS = {"priors": priors_app, "stories": stories_app, "neural": neural_app, "programs": programs_app,
        "annealing": annealing_app}


def render(app):
    """The app rendered into a Bokeh document, as a served page renders it: (panel objects, HTML models)."""
    viewable = pn.panel(app)
    root = viewable.get_root(Document())
    models = [m for m in root.references() if isinstance(getattr(m, "text", None), str)]
    return viewable.select(), models


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in markup.TAGS:
            self.problems.append(f"tag <{tag}>")
        allowed = markup.ATTRIBUTES["*"] | markup.ATTRIBUTES.get(tag, set()) | ({"rel"} if tag == "a" else set())
        for name, value in attrs:
            if name not in allowed:
                self.problems.append(f"attribute {name} on <{tag}>")
            if name == "href" and not (value or "").lower().startswith(("http://", "https://", "mailto:", "./", "#")):
                self.problems.append(f"link to {value!r}")

    def handle_data(self, data):
        self.text.append(data)


def inspect(fragment: str) -> tuple[list[str], str]:
    """(what in an HTML fragment could run or is not allow-listed, the fragment's visible text)."""
    parser = _Tags()
    parser.feed(fragment)
    parser.close()
    return parser.problems, "".join(parser.text)


def test_inspect_finds_active_markup():
    assert inspect(IMG)[0] == ["tag <img>", "attribute src on <img>", "attribute onerror on <img>"]
    assert inspect("<a href='javascript:alert(1)'>x</a>")[0] == ["link to 'javascript:alert(1)'"]
    assert inspect(markup.sanitise(HOSTILE))[0] == []
    assert inspect(f"<p>{markup.html_text(HOSTILE)}</p>") == ([], f"{HOSTILE}")


@pytest.mark.parametrize("app", APPS)
def test_every_markdown_and_html_pane_comes_from_markup(app, library):
    objects, _ = render(APPS[app](library))
    panes = [o for o in objects if isinstance(o, (pn.pane.Markdown, pn.pane.HTML))]
    assert panes, "the walk found no panes at all"
    unsafe = [(type(o).__name__, str(o.object)[:80]) for o in panes if not markup.is_safe_pane(o)]
    assert not unsafe


@pytest.mark.parametrize("app", APPS)
def test_hostile_text_reaches_the_page_as_text_and_never_as_markup(app, library):
    _, models = render(APPS[app](library))
    shown = []
    for model in models:
        problems, visible = inspect(html.unescape(model.text))
        assert not problems, (type(model).__name__, problems, model.text[:300])
        shown.append(visible)
    # The hostile text did reach the page (as words): the checks above saw it, not an empty page.
    assert "onerror=alert(1)" in "\n".join(shown)


def test_markup_escapers_show_every_character_and_no_markup():
    for s in (HOSTILE, "a_b*c `d` $$x$$ #h [l](u) & < > \" '", "line\nbreak"):
        pane = markup.markdown(markup.text(s))
        rendered = html.unescape(pane._transform_object(pane.object)["object"])  # what Panel sends the browser
        problems, visible = inspect(rendered)
        assert not problems
        assert visible.replace("\n", "").strip() == s.replace("\n", "")


# ---- links made of markup ----------------------------------------------------------------------------

markupish = st.one_of(
    st.sampled_from([IMG, SCRIPT, SVG, LINK, "<b>x</b>", "&lt;img&gt;", "{\"<img>\":1}", "**x**"]),
    st.text(alphabet=st.sampled_from(list("<>\"'&=/:;()[]{}!*_`#$ abcimgonerrsvgload")), min_size=1, max_size=40),
)
names = st.one_of(st.sampled_from(["scenario", "w_avg", "kind_mix", "seed", "memory", "backend"]), markupish)


@pytest.fixture(scope="module")
def small_dashboard():
    return PriorsDashboard(n_programs=500)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(names, markupish), min_size=1, max_size=6))
def test_links_made_of_markup_only_ever_show_text(small_dashboard, pairs):
    small_dashboard.reset()
    small_dashboard.show_message(link_message(apply_query(small_dashboard, urlencode(pairs))))
    _, models = render(small_dashboard._message)
    for model in models:
        problems, _ = inspect(html.unescape(model.text))
        assert not problems, (pairs, model.text[:300])
