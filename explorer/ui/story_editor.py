"""The story editor: open a story from the library, edit every part, check it, save it without losing work.

The editor holds one Story (the model) and the forms of explorer.ui.story_forms bound to it. Every edit
changes the model; the editor then re-validates the text the story would be saved as (so messages are
located at the lines of that file) and shows the messages in a list and under the part they are about.

The page opens on the library (each story's title, first sentence and recorded statuses), not on a blank
form; `?story=NAME` opens a story and `&item=KIND:ID` (a tap on the story panel's map) opens that item's
form. A story's parts are in tabs (story, claims, criteria, assumptions, evidence, sweeps, narrative),
each a scrolling column whose forms are its direct children, so the argument map beside them can open
any part: a tap switches to its tab, scrolls to its form and marks it. Problems appear under the form
they are about and, in the list beside, named by the part the form shows (`Claims › claim RN1`), not
by a line of a file the form does not show.

Check runs the evidence in a background thread and shows each claim's status as a coloured badge.
Save goes through the library's revision check: if someone saved the story since this page opened it,
the save is refused with a clear message and the edits stay in the page, ready for Save as or download.
Each save records its author (explorer.ui.sign_in); in workshop mode (EXPLORER_WORKSHOP=1) Save and Save as
are off, with the reason beside them, until the session signs in, and save() itself refuses without a
signed-in author (a button enabled in a hostile browser changes nothing). The status line says who saved
the revision on show, and the history below it who saved each kept revision.

User text never reaches the page unescaped: it sits in text widgets or goes through
explorer.stories.render (safe_html, for Markdown) or explorer.ui.markup (html_text, for plain text), and every callback is
wrapped so that a mistake becomes a visible message instead of a dead session.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import io
import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import panel as pn
import param

from explorer import editor_access
from explorer.errors import ExplorerError
from explorer.stories import fileformat
from explorer.stories.argument import argument
from explorer.stories.catalogue import Entry, catalogue
from explorer.stories.cells import describe_cell, describe_verdict
from explorer.stories.evidence import STATUSES, Result, claim_statuses, evidence_status, run
from explorer.stories.library import Revision, Saving, StoryConflictError, StoryLibrary, check_name
from explorer.stories.messages import Message, StoryFormatError
from explorer.stories.model import ClassChoice, Story
from explorer.stories.render import safe_html
from explorer.stories.validate import validate
from explorer.stories.vocabulary import COMPONENTS, CRITERIA
from explorer.ui import markup
from explorer.ui.argument_map import ArgumentMap
from explorer.ui.sign_in import SignInForm
from explorer.ui.story_forms import (
    AssumptionForm,
    Choices,
    ClaimForm,
    ComponentForm,
    CriterionForm,
    EvidenceForm,
    HeaderForm,
    ListForm,
    SweepForm,
    badge,
    new_assumption,
    new_evidence,
    new_sweep,
)
from explorer.ui.sweep_map import SweepRunner
from explorer.ui.url import read_link

log = logging.getLogger(__name__)

TEMPLATES = "templates/"
BLANK = "(blank story)"
#: The editor's tabs, in order, and the tab of each kind of form (a problem names it; a tap opens it).
SECTIONS = ("Story", "Claims", "Criteria", "Assumptions", "Evidence", "Sweeps", "Narrative")
TAB_OF = {HeaderForm: "Story", ComponentForm: "Claims", ClaimForm: "Claims", CriterionForm: "Criteria",
          AssumptionForm: "Assumptions", EvidenceForm: "Evidence", SweepForm: "Sweeps"}
KIND_TAB = {"claim": "Claims", "criterion": "Criteria", "assumption": "Assumptions", "evidence": "Evidence"}
#: Front-matter keys whose problems belong to the header form; the others name their tab.
HEADER_KEYS = {"schema", "title", "authors", "revision", "goal_class", "rationale_classes", "failure_modes"}
KEY_TAB = {"components": "Claims", "criteria": "Criteria", "assumptions": "Assumptions", "evidence": "Evidence",
           "sweeps": "Sweeps"}
#: The forms' columns fill the window below the toolbar and the tab bar, and scroll inside it.
TAB_HEIGHT = "calc(100vh - 200px)"
FOCUS_STYLE = {"border-left": "4px solid #0072B2", "background": "#eef6fc", "padding-left": "8px"}


def blank_story() -> Story:
    """A new story with nothing filled in yet (every component and criterion present, all empty)."""
    return Story(title="Untitled training story", goal_class=ClassChoice(id="loss-minimizing-model"))


def run_evidence(story: Story, progress: Callable[[int, int], None] | None = None,
                 should_stop: Callable[[], bool] | None = None) -> tuple[dict[str, Result], dict[str, str]]:
    """Run each piece of simulated evidence (equal parameters share one simulation).

    Unlike evidence.run_all, one piece that cannot run (an unknown metric, a bad parameter) does not stop
    the others: its problem is returned by evidence id. `progress(done, total)` follows the runs."""
    todo = [e for e in story.evidence if e.simulated and e.predicate is not None and e.scenario is not None]
    results, problems, runners = {}, {}, {}
    for done, ev in enumerate(todo):
        if should_stop is not None and should_stop():
            break
        if progress is not None:
            progress(done, len(todo))
        try:
            results[ev.id] = run(story, ev, runners=runners)
        except ExplorerError as exc:
            problems[ev.id] = str(exc)
    if progress is not None:
        progress(len(todo), len(todo))
    return results, problems


def _guarded(method):
    """Run an editor callback so that any failure shows as a message and the session lives on."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except StoryFormatError as exc:
            self.show_alert("This story cannot be read:\n" + "\n".join(map(str, exc.messages)))
        except ExplorerError as exc:
            self.show_alert(str(exc))
        except Exception as exc:  # a bug must not kill the page holding someone's unsaved work
            log.exception("story editor callback failed")
            self.show_alert(f"Something went wrong ({type(exc).__name__}: {exc}). Your edits are still in the "
                            f"page; download them to be safe.")
        return None

    return wrapper


def messages_html(messages: list[Message], where: list[str] | None = None) -> str:
    """Messages as an escaped HTML list, errors in red, warnings in amber; each names the part it is about
    (`where`, as the form labels it) instead of the file line the form does not show (none: said where it is)."""
    colour = {"error": "#b00020", "warning": "#8a5a00"}
    t = markup.html_text
    items = "".join(
        f"<li class='story-message story-{m.severity}' style='color:{colour[m.severity]}'>{t(m.severity)} "
        f"<small>{t(m.code)}</small>{' <b>' + t(w) + '</b>' if w else ''}: {t(m.text)}</li>"
        for m, w in zip(messages, where or [""] * len(messages)))
    return f"<ul class='story-messages' style='padding-left:1.2em;margin:0'>{items}</ul>" if items else ""


def entry_html(entry: Entry) -> str:
    """One story of the library as the list shows it (every piece of its text escaped)."""
    t = markup.html_text
    if entry.problem:
        return (f"<div class='story-entry'><b>{t(entry.name)}</b>: <span style='color:#b00020'>does not load: "
                f"{t(entry.problem, limit=300)}</span></div>")
    counts = " ".join(f"{badge(s)} {n}" for s, n in entry.statuses.items())
    recorded = f"{entry.claims} claim{'s' if entry.claims != 1 else ''}: {counts}" if entry.claims else "no claims yet"
    return (f"<div class='story-entry'><b class='story-entry-title'>{t(entry.title)}</b> "
            f"<small style='color:#555'>{t(entry.name)}</small><br>{t(entry.about)}"
            f"<br><small>{recorded} <i>(as recorded in the file)</i></small></div>")


def _saved_by(author: str, saved: str | None) -> str:
    """`saved by <b>AUTHOR</b>, TIME` (escaped; the library's ISO time in UTC, read as a person writes it)."""
    when = (saved or "").replace("T", " ").replace("+00:00", " UTC")
    return f"saved by <b>{markup.html_text(author)}</b>, {markup.html_text(when)}"


def saved_html(saving: Saving | None) -> str:
    """`saved by AUTHOR, TIME` for the status line (escaped), or nothing when no author was recorded."""
    if saving is None:
        return ""
    return f" &middot; <span class='story-saved-by'>{_saved_by(saving.author, saving.saved)}</span>"


def history_html(current: Saving | None, revision: int | None, kept: list[Revision]) -> str:
    """The revision on show and the kept earlier ones, newest first, each with who saved it (escaped)."""
    def who(author, saved):
        return "<i>author not recorded</i>" if author is None else _saved_by(author, saved)

    rows = []
    if revision is not None:
        rows.append(f"<li>revision {revision} (this one): {who(getattr(current, 'author', None), getattr(current, 'saved', None))}</li>")
    rows += [f"<li>revision {r.revision}: {who(r.author, r.saved)}</li>" for r in reversed(kept)]
    if not rows:
        return ""
    return (f"<details class='story-history'><summary>History ({len(kept)} earlier revision"
            f"{'' if len(kept) == 1 else 's'} kept)</summary><ul style='margin:0'>{''.join(rows)}</ul></details>")


class StoryEditor(pn.viewable.Viewer):
    """Open, edit, check and save a training story from a story library."""

    story_name = param.String(default=None, allow_None=True,
                              doc="The library name of the story being edited (none: not saved yet).")
    opened_revision = param.Integer(default=None, allow_None=True,
                                    doc="The revision this page opened (the save check compares it).")
    dirty = param.Boolean(False, doc="Whether there are edits not saved yet.")
    running = param.Boolean(False, doc="Whether a check is running.")
    mode = param.Selector(default="library", objects=["library", "story"],
                          doc="What the page shows: the library's list, or the story being edited.")

    def __init__(self, library: StoryLibrary | None = None, story: str | None = None,
                 sign_in: SignInForm | None = None, **params):
        """`story`: the library name to open first (else the page shows the library). `sign_in`: this
        session's sign-in (default: a new one, signed in by Panel's OAuth user if the server has one)."""
        super().__init__(**params)
        self.library = library or StoryLibrary()
        self.sign_in = sign_in or SignInForm()
        self._saving: Saving | None = None  # who saved the revision on show
        self.story: Story = blank_story()
        self.messages: list[Message] = []
        self._checked: dict[str, tuple[Result, Any, dict]] = {}
        self._check_problems: dict[str, str] = {}
        self._stop = False
        self._building = False

        # toolbar
        self.picker = pn.widgets.Select(label="Story", options=[], width=260, css_classes=["story-picker"])
        self.open_button = pn.widgets.Button(label="Open", color="primary", width=80, align="end",
                                             css_classes=["story-open-button"])
        self.library_button = pn.widgets.Button(label="Library", color="light", width=90, align="end",
                                                description="Back to the list of stories (your edits stay here)",
                                                css_classes=["story-library-button"])
        self.back_button = pn.widgets.Button(label="Back to the story", color="light", align="end", visible=False)
        self.library_button.on_click(lambda _e: self.show_library())
        self.back_button.on_click(lambda _e: setattr(self, "mode", "story"))
        self.template = pn.widgets.Select(label="New from template", options=[BLANK], width=240)
        self.new_button = pn.widgets.Button(label="New", color="light", width=70, align="end")
        self.save_button = pn.widgets.Button(
            label="Save", color="primary", width=80, align="end",
            description="Save over the story you opened (refused if someone saved it since)")
        self.save_as_name = pn.widgets.TextInput(label="Save as (name in the library)",
                                                 placeholder="my-stories/first-try", width=260)
        self.save_as_button = pn.widgets.Button(label="Save as", color="light", width=90, align="end")
        self.save_reason = markup.html("", visible=False, css_classes=["story-save-reason"], align="center")
        self.history_pane = markup.html("", sizing_mode="stretch_width", css_classes=["story-history-pane"])
        self.sign_in.param.watch(lambda _e: self._access_changed(), "user")
        self.download = pn.widgets.FileDownload(callback=self._download_text, filename="story.story.md",
                                                label="Download", color="light", width=110, align="end")
        self.check_button = pn.widgets.Button(
            label="Check", color="success", width=90, align="end",
            description="Run the evidence against the simulation and show each claim's status")
        self.stop_button = pn.widgets.Button(label="Stop", color="light", width=70, align="end", disabled=True)
        self.progress = pn.indicators.Progress(value=0, max=1, visible=False, width=160, align="center")
        self.open_button.on_click(lambda _e: self.open(self.picker.value))
        self.new_button.on_click(lambda _e: self.new(None if self.template.value == BLANK else self.template.value))
        self.save_button.on_click(lambda _e: self.save())
        self.save_as_button.on_click(lambda _e: self.save_as(self.save_as_name.value_input or self.save_as_name.value))
        self.check_button.on_click(self._check_clicked)
        self.stop_button.on_click(lambda _e: setattr(self, "_stop", True))

        self.alert = markup.html("", visible=False, sizing_mode="stretch_width", css_classes=["story-alert-box"])
        self.status = markup.html("", sizing_mode="stretch_width")
        self.messages_pane = markup.html("", sizing_mode="stretch_width")
        # Every problem is under its form; this opens the form of one, whichever tab is on show.
        self.goto = pn.widgets.Select(label="Open the part a problem is about", options=[], visible=False,
                                      sizing_mode="stretch_width", css_classes=["story-goto"])
        self._goto_forms: dict[str, Any] = {}
        self.goto.param.watch(self._goto, "value")
        self.summary = markup.html("", sizing_mode="stretch_width")
        self.preview = markup.html("", sizing_mode="stretch_width", css_classes=["story-preview"])
        self.body = pn.widgets.TextAreaInput(label="Narrative (Markdown)", auto_grow=True, rows=8, max_rows=40,
                                             sizing_mode="stretch_width", css_classes=["story-body"])
        self.body.param.watch(self._body_edited, ["value", "value_input"])

        self._sections = {name: pn.Column(sizing_mode="stretch_width", scroll=True, styles={"max-height": TAB_HEIGHT},
                                          css_classes=[f"story-tab-{name.lower()}"]) for name in SECTIONS}
        self.tabs = pn.Tabs(*self._sections.items(), dynamic=False, sizing_mode="stretch_width",
                            css_classes=["story-tabs"])
        self.map = ArgumentMap(on_tap=self.focus, css_classes=("story-editor-map",))
        self._focused: Any = None
        self.focused: str | None = None  # KIND:ID of the form last opened from the map or a link
        self.library_list = pn.Column(sizing_mode="stretch_width", css_classes=["story-library"])
        self.sweep_runner = SweepRunner(story=None)
        self._library_part = pn.Column(self.library_toolbar(), self.library_list, sizing_mode="stretch_width")
        self._story_part = pn.Row(pn.Column(self.toolbar(), self.tabs, sizing_mode="stretch_width"), self.side(),
                                  sizing_mode="stretch_width")
        self._access_changed()
        self.refresh_library()
        if story is None or not self.open(story):
            self._load(blank_story(), None, None)
            self.show_library()
        self._mode_changed()

    # ---- the library ---------------------------------------------------------------------------

    @_guarded
    def refresh_library(self) -> None:
        """Re-read the library's names into the pickers."""
        names = self.library.names()
        self.picker.options = names
        if self.story_name in names:
            self.picker.value = self.story_name
        elif names and self.picker.value not in names:
            self.picker.value = names[0]
        self.template.options = [BLANK] + [n for n in names if n.startswith(TEMPLATES)]
        if self.mode == "library":
            self._list_library()

    def show_library(self) -> None:
        """Show the library's list (the story being edited stays, one click away)."""
        self.mode = "library"
        self.refresh_library()

    def _list_library(self) -> None:
        rows: list[Any] = []
        entries = catalogue(self.library)
        for heading, part in (("Stories", [e for e in entries if not e.template]),
                              ("Templates (start from one: choose it under New from template)",
                               [e for e in entries if e.template])):
            if not part:
                continue
            rows.append(markup.html(f"<h3 style='margin:6px 0 0 0'>{markup.html_text(heading)}</h3>"))
            for entry in part:
                button = pn.widgets.Button(label="Open", color="primary", width=70, align="center",
                                           description=f"Open {entry.name} in the editor")
                button.on_click(functools.partial(lambda name, _e: self.open(name), entry.name))
                rows.append(pn.Row(button, markup.html(entry_html(entry), sizing_mode="stretch_width"),
                                   sizing_mode="stretch_width", css_classes=["story-library-row"]))
        if not rows:
            rows = [markup.html("<i>The library is empty: start a new story with New.</i>")]
        self.library_list[:] = rows

    @_guarded
    def open(self, name: str | None) -> bool:
        """Open a story from the library (a file that does not load shows its located messages)."""
        if not name:
            raise ExplorerError("choose a story to open")
        story = self.library.open(name)
        self._load(story, name, story.revision)
        self.mode = "story"
        self.show_alert("")
        return True

    @_guarded
    def new(self, template: str | None = None) -> bool:
        """Start a new, unsaved story: blank, or a copy of a library template."""
        story = blank_story() if template is None else self.library.open(template)
        self._load(story, None, None)
        self.mode = "story"
        self.dirty = True
        self.show_alert("New story: give it a name and press Save as to keep it.", kind="info")
        return True

    @_guarded
    def save(self) -> bool:
        """Save over the opened story; refused, keeping the edits here, if the file moved on since it was opened."""
        if self.story_name is None or self.opened_revision is None:
            raise ExplorerError("this story has not been saved yet: type a name under 'Save as' and press Save as")
        author = self._author()
        try:
            saved = self.library.save(self.story, self.story_name, self.opened_revision, author=author)
        except StoryConflictError as exc:
            self._conflict(str(exc))
            return False
        except StoryFormatError as exc:
            self._unloadable(exc)
            return False
        self._saved(saved, self.story_name)
        self.show_alert(f"Saved {self.story_name} (revision {saved.revision}).", kind="success")
        return True

    @_guarded
    def save_as(self, name: str | None) -> bool:
        """Save as a new story in the library (refused if the name exists)."""
        if not name or not name.strip():
            raise ExplorerError("type a name for the new story (for example my-stories/first-try) "
                                "and press Save as again")
        new_name = check_name(name.strip())
        author = self._author()
        try:
            saved = self.library.save_as(self.story, new_name, author=author)
        except StoryFormatError as exc:
            self._unloadable(exc)
            return False
        self._saved(saved, new_name)
        self.refresh_library()
        self.show_alert(f"Saved as {new_name} (revision {saved.revision}).", kind="success")
        return True

    def _author(self) -> str:
        """This session's author; ExplorerError when it may not save (checked here, on the server, whatever
        the buttons in the browser say)."""
        author = self.sign_in.author
        refusal = editor_access.save_refusal(author)
        if refusal is not None or author is None:
            raise ExplorerError(f"Not saved: {refusal or editor_access.SIGN_IN_REASON}")
        return author

    def _access_changed(self) -> None:
        """Save and Save as follow the session's sign-in; the reason shows beside them while they are off."""
        can = self.sign_in.can_save
        self.save_button.disabled = self.save_as_button.disabled = not can
        self.save_reason.object = ("" if can else f"<span class='story-save-off' style='color:#8a5a00'>"
                                                  f"{markup.html_text(editor_access.SIGN_IN_REASON)}</span>")
        self.save_reason.visible = not can

    def _show_history(self) -> None:
        """Who saved the revision on show and the kept earlier ones."""
        self._saving = None
        if self.story_name is None:
            self.history_pane.object = ""
            return
        try:
            self._saving = self.library.saved_by(self.story_name, self.opened_revision)
            kept = self.library.history(self.story_name)
        except (ExplorerError, OSError):
            kept = []
        self.history_pane.object = history_html(self._saving, self.opened_revision, kept)

    def text(self) -> str:
        """The story as file text, as Save would write it (the revision aside)."""
        return fileformat.dumps(copy.deepcopy(self.story))

    def _download_text(self) -> io.StringIO:
        return io.StringIO(self.text())

    def _saved(self, saved: Story, name: str) -> None:
        # Keep the model the forms are bound to; adopt the saved file's revision and parsed data so the
        # next save merges into the file as it now is.
        self.story.revision, self.story.source = saved.revision, saved.source
        self.story_name, self.opened_revision, self.dirty = name, saved.revision, False
        self._show_history()
        self._update_status()

    def _unloadable(self, exc: StoryFormatError) -> None:
        self.show_alert("Not saved: the story as it stands would not load again. Fix this first (your edits are "
                        "still here):\n" + "\n".join(m.text for m in exc.messages))

    def _conflict(self, message: str) -> None:
        if not (self.save_as_name.value or "").strip():
            self.save_as_name.value = f"{self.story_name}-mine"
        self.show_alert(message + " (Your edits are still in this page.)", kind="danger", css="story-conflict")

    # ---- building the forms ----------------------------------------------------------------------

    def _load(self, story: Story, name: str | None, revision: int | None) -> None:
        """Show `story`: new forms bound to it, its body, its messages."""
        self._building = True
        try:
            self.story = story
            self._checked, self._check_problems = {}, {}
            self.choices = Choices(story)
            changed = self._changed
            self.header = HeaderForm(story, changed)
            self.components = {c: ComponentForm(c, story, self.choices, changed) for c in COMPONENTS}
            self.criteria = {c: CriterionForm(c, story, self.choices, changed) for c in CRITERIA}
            self.assumptions = ListForm(story.assumptions, lambda item, rm: AssumptionForm(item, changed, rm),
                                        lambda: new_assumption(story), "assumption", changed, self.choices)
            self.evidence = ListForm(story.evidence, lambda item, rm: EvidenceForm(item, self.choices, changed, rm),
                                     lambda: new_evidence(story), "evidence", changed, self.choices)
            self.sweeps = ListForm(story.sweeps, lambda item, rm: SweepForm(item, self.choices, changed, rm),
                                   lambda: new_sweep(story), "sweep", changed, self.choices)
            self._focused, self._last_targets = None, []
            self._header_layout = self.header.panel()
            self._sections["Story"][:] = [self._header_layout]
            self._sections["Criteria"][:] = [f.layout for f in self.criteria.values()]
            self._sections["Narrative"][:] = [pn.Row(self.body, self.preview, sizing_mode="stretch_width")]
            for form in (*self.components.values(), self.assumptions, self.evidence, self.sweeps):
                form.relayout = self._relayout
            self._relayout()
            self.sweep_runner.story = story
            self.body.value = story.body
            self.preview.object = safe_html(story.body)
        finally:
            self._building = False
        self.story_name, self.opened_revision, self.dirty = name, revision, False
        if name is not None and name in self.picker.options:
            self.picker.value = name
        self.download.filename = f"{(name or 'story').rsplit('/', 1)[-1]}{fileformat.SUFFIX}"
        self._show_history()
        self._revalidate()

    def _relayout(self) -> None:
        """Lay the list forms out flat in their tabs (after a part is added or removed)."""
        self._sections["Claims"][:] = [p for form in self.components.values() for p in form.parts()]
        self._sections["Assumptions"][:] = self.assumptions.parts()
        self._sections["Evidence"][:] = self.evidence.parts()
        self._sections["Sweeps"][:] = [*self.sweeps.parts(), self.sweep_runner]

    # ---- opening a part from the map ---------------------------------------------------------------

    def form_of(self, kind: str, item: str) -> Any:
        """The form of a claim, criterion, assumption or evidence by id (None: the story has none)."""
        if kind == "claim":
            return next((f for comp in self.components.values() for f in comp.claims if f.claim.id == item), None)
        if kind == "criterion":
            return self.criteria.get(item)
        forms = {"assumption": (self.assumptions.forms, "name"), "evidence": (self.evidence.forms, "id")}.get(kind)
        if forms is None:
            return None
        return next((f for f in forms[0] if getattr(f.item, forms[1]) == item), None)

    @_guarded
    def focus(self, kind: str, item: str) -> bool:
        """Open a part's form: switch to its tab, scroll to it and mark it (a tap on the map, a link's item)."""
        form = self.form_of(kind, item)
        if form is None:
            raise ExplorerError(f"this story has no {kind} {item!r} to open")
        self.open_form(form)
        self.focused = f"{kind}:{item}"
        return True

    def _layout_of(self, form: Any) -> Any:
        return {HeaderForm: lambda: self._header_layout, ComponentForm: lambda: form.head}.get(
            type(form), lambda: form.layout)()

    def open_form(self, form: Any) -> None:
        """Show a form: its tab, scrolled to it, marked (the mark moves from the form shown before)."""
        self.mode = "story"
        tab, layout = TAB_OF[type(form)], self._layout_of(form)
        if self._focused is not None:
            self._focused[0].styles = self._focused[1]
        self._focused = (layout, dict(layout.styles))
        layout.styles = {**layout.styles, **FOCUS_STYLE}
        self.tabs.active = SECTIONS.index(tab)
        column = self._sections[tab]
        index = next(i for i, o in enumerate(column.objects) if o is layout)
        doc = pn.state.curdoc
        if doc is not None and doc.session_context is not None:  # after the tab is shown, or nothing scrolls
            doc.add_timeout_callback(lambda: column.scroll_to(index), 300)
        else:
            column.scroll_to(index)

    # ---- reacting to edits ----------------------------------------------------------------------

    @_guarded
    def _changed(self, structural: bool = False) -> None:
        if self._building:
            return
        self.dirty = True
        if structural:
            self.choices.refresh()
            self.sweep_runner.param.trigger("story")  # sweep ids may have changed
        self._revalidate()

    @_guarded
    def _body_edited(self, event) -> None:
        if self._building or event.new is None:
            return
        self.story.body = event.new
        self.preview.object = safe_html(event.new)
        self.dirty = True
        self._update_status()

    def _label(self) -> str:
        return f"{self.story_name or 'new-story'}{fileformat.SUFFIX}"

    def _revalidate(self) -> None:
        """Validate the text this story would be saved as; show messages in the list and inline."""
        label = self._label()
        reloaded = None
        try:
            reloaded = fileformat.loads(self.text(), label)
            self.messages = validate(reloaded, label)
        except StoryFormatError as exc:
            self.messages = list(exc.messages)
        where = self._inline_messages(reloaded)
        self.messages_pane.object = messages_html(self.messages, where) or "<i>No problems found.</i>"
        self._show_statuses()
        self._update_status()

    def _targets(self, reloaded: Story | None) -> list[tuple[int, Any]]:
        """(line, form) for every part of the saved text, and (line, None) for each top-level key."""
        if reloaded is None:
            return []
        out: list[tuple[int, Any]] = []
        source = reloaded.source
        for key in source or {}:
            try:
                out.append((source.lc.key(key)[0] + 2, (self.header, str(key)) if key in HEADER_KEYS else str(key)))
            except (AttributeError, KeyError, TypeError):
                pass
        for name, form in self.components.items():
            out.append((reloaded.components[name].line, form))
            for claim, claim_form in zip(reloaded.components[name].claims, form.claims):
                out.append((claim.line, claim_form))
        for name, form in self.criteria.items():
            out.append((reloaded.criteria[name].line, form))
        for items, forms in ((reloaded.assumptions, self.assumptions.forms), (reloaded.evidence, self.evidence.forms),
                             (reloaded.sweeps, self.sweeps.forms)):
            out.extend((item.line, form) for item, form in zip(items, forms))
        return sorted((t for t in out if t[0]), key=lambda t: t[0])

    def _inline_messages(self, reloaded: Story | None) -> list[str]:
        """Put each message under the form it is about; return, per message, that part's name as the
        form shows it (`Claims › claim RN1`), for the list beside. Text that would not load has no parts
        of its own: its messages go by the parts of the last text that did (one edit earlier, the same lines
        but for that edit)."""
        targets = self._targets(reloaded) if reloaded is not None else getattr(self, "_last_targets", [])
        if reloaded is not None:
            self._last_targets = targets
        found: dict[int, tuple[Any, list[Message]]] = {}
        where, owners = [], []
        for m in self.messages:
            owner = None
            for line, form in targets:
                if line > m.line:
                    break
                owner = form
            if not m.line:
                owner = None
            where.append(self._where(owner))
            owners.append(owner)
            if isinstance(owner, tuple):  # a key of the header: its form
                owner = owner[0]
            if owner is not None and not isinstance(owner, str):
                found.setdefault(id(owner), (owner, []))[1].append(m)
        for form in self._all_forms():
            owner, msgs = found.get(id(form), (form, []))
            form.messages.object = messages_html(msgs)
            form.messages.visible = bool(msgs)
        self._goto_options(owners, where)
        return where

    def _goto_options(self, owners: list[Any], where: list[str]) -> None:
        forms = {}
        for owner, label in zip(owners, where):
            form = owner[0] if isinstance(owner, tuple) else owner
            if form is not None and not isinstance(form, str):
                forms.setdefault(label, form)
        self._goto_forms = forms
        options = [""] + list(forms)
        if self.goto.options != options:
            self.goto.options = options
        self.goto.value = ""
        self.goto.visible = bool(forms)

    @_guarded
    def _goto(self, event) -> None:
        form = self._goto_forms.get(event.new or "")
        if form is not None:
            self.open_form(form)

    @staticmethod
    def _where(owner: Any) -> str:
        if owner is None:
            return "the story"
        if isinstance(owner, tuple):
            return f"Story › {owner[1].replace('_', ' ')}"
        if isinstance(owner, str):
            return f"{KEY_TAB.get(owner, 'Story')} › {owner.replace('_', ' ')}"
        return f"{TAB_OF[type(owner)]} › {owner.where}"

    def _all_forms(self) -> list[Any]:
        forms: list[Any] = []
        for comp in self.components.values():
            forms += [comp, *comp.claims]
        return [self.header] + forms + list(self.criteria.values()) + self.assumptions.forms + self.evidence.forms + self.sweeps.forms

    def errors(self) -> list[Message]:
        return [m for m in self.messages if m.severity == "error"]

    def _update_status(self) -> None:
        if self.mode == "library":
            n = len(self.picker.options)
            self.status.object = (f"<div class='story-state story-library-state'>The story library: {n} "
                                  f"stor{'y' if n == 1 else 'ies'}. Open one, or start a new one.</div>")
            return
        errors = len(self.errors())
        warnings = len(self.messages) - errors
        where = (f"<b>{markup.html_text(self.story_name)}</b>, revision {self.opened_revision}"
                 f"{saved_html(self._saving)}" if self.story_name else "<b>not saved yet</b>")
        unsaved = " &middot; <span class='story-unsaved'>unsaved changes</span>" if self.dirty else ""
        self.status.object = (f"<div class='story-state'>{where}{unsaved} &middot; {errors} error(s), "
                              f"{warnings} warning(s)</div>")

    # ---- checking --------------------------------------------------------------------------------

    def results(self) -> dict[str, Result]:
        """Check results that still apply: the evidence (and its assumptions) unchanged since it ran."""
        evidence, assumptions = self.story.evidence_by_id(), self.story.assumption_by_name()
        out = {}
        for eid, (result, ran, used) in self._checked.items():
            if evidence.get(eid) == ran and {n: assumptions.get(n) for n in ran.assumptions} == used:
                out[eid] = result
        return out

    def statuses(self) -> dict[str, str]:
        """Each claim's status from the last check (or the recorded results, where still valid)."""
        return claim_statuses(self.story, self.results())

    def check(self) -> dict[str, str]:
        """Run the evidence now (in this thread) and show the statuses; returns them."""
        snapshot = copy.deepcopy(self.story)
        results, problems = run_evidence(snapshot)
        self._take_results(snapshot, results, problems)
        return self.statuses()

    async def _check_clicked(self, _event=None) -> None:
        if self.running:
            return
        snapshot = copy.deepcopy(self.story)
        self.running, self._stop = True, False
        self.check_button.disabled, self.stop_button.disabled, self.progress.visible = True, False, True

        def progress(done, total):
            self.progress.max, self.progress.value = max(total, 1), done

        try:
            results, problems = await asyncio.to_thread(run_evidence, snapshot, progress, lambda: self._stop)
            self._take_results(snapshot, results, problems)
            self.show_alert("Check stopped before every piece of evidence ran." if self._stop else "", kind="warning")
        except Exception as exc:
            log.exception("story check failed")
            self.show_alert(f"The check failed: {exc}")
        finally:
            self.running = False
            self.check_button.disabled, self.stop_button.disabled, self.progress.visible = False, True, False

    def _take_results(self, snapshot: Story, results: Mapping[str, Result], problems: Mapping[str, str]) -> None:
        ran = snapshot.evidence_by_id()
        assumptions = snapshot.assumption_by_name()
        self._checked = {eid: (r, ran[eid], {n: assumptions.get(n) for n in ran[eid].assumptions})
                         for eid, r in results.items()}
        self._check_problems = dict(problems)
        self._show_statuses()

    def _show_statuses(self) -> None:
        statuses = self.statuses()
        results = self.results()
        for comp in self.components.values():
            for form in comp.claims:
                status = statuses.get(form.claim.id, "unchecked")
                form.status.object = badge(status, f"claim {form.claim.id}: {status}")
        for form in self.evidence.forms:
            ev = form.item
            r = results.get(ev.id)
            if ev.cell is not None:
                status = evidence_status(self.story, ev)
                form.result.object = (f"{badge(status)} {markup.html_text(describe_cell(ev.cell))}; recorded matrix: "
                                      f"{markup.html_text(describe_verdict(ev.cell))}")
            elif not ev.simulated:
                form.result.object = f"External source: {markup.html_text(ev.finding or '')}."
            elif r is not None and ev.predicate is not None:
                pred, word = ev.predicate, "holds" if r.holds else "fails"
                right = r.other if r.other is not None else pred.value
                form.result.object = (f"{badge('supported' if r.holds else 'refuted', word)} "
                                      f"{markup.html_text(pred.metric)} = <b>{markup.html_text(repr(r.value))}</b> "
                                      f"{markup.html_text(pred.op)} {markup.html_text(repr(right))}: {word}")
            elif ev.id in self._check_problems:
                form.result.object = (f"{badge('refuted', 'could not run')} could not run: "
                                      f"{markup.html_text(self._check_problems[ev.id])}")
            elif ev.recorded is not None:
                status = evidence_status(self.story, ev)
                word = {"supported": "holds", "refuted": "fails"}.get(status, "is stale")
                form.result.object = (f"{badge(status)} recorded result: {markup.html_text(repr(ev.recorded.value))}, "
                                      f"{word}; press Check to run it now")
            else:
                form.result.object = "<i>not checked yet</i>"
        self.map.show(argument(self.story, statuses, {ev.id: ("refuted" if ev.id in self._check_problems else
                                                             evidence_status(self.story, ev, results))
                                                       for ev in self.story.evidence}))
        counts = {s: list(statuses.values()).count(s) for s in STATUSES}
        self.summary.object = " ".join(f"{badge(s)} {n}" for s, n in counts.items() if n) or "<i>No claims yet.</i>"

    # ---- messages --------------------------------------------------------------------------------

    def show_alert(self, text: str, kind: str = "danger", css: str = "") -> None:
        """Show (or clear, with empty text) the message box; errors also pop up as a notification."""
        box = f"<div class='alert alert-{kind} story-alert {css}' role='alert' style='white-space:pre-wrap'>"
        self.alert.object = f"{box}{markup.html_text(text)}</div>" if text else ""
        self.alert.visible = bool(text)
        if kind == "danger":
            markup.notify_error(text)

    # ---- layout ----------------------------------------------------------------------------------

    @param.depends("mode", watch=True)
    def _mode_changed(self) -> None:
        library = self.mode == "library"
        self._library_part.visible, self._story_part.visible = library, not library
        self.back_button.visible = library and (self.story_name is not None or self.dirty)
        self._update_status()

    def toolbar(self) -> pn.Row:
        """The story's own buttons (the library's are on the library's page)."""
        return pn.Column(pn.Row(self.library_button, self.save_button, self.save_as_name, self.save_as_button,
                                self.download, self.save_reason, sizing_mode="stretch_width"),
                         self.history_pane, sizing_mode="stretch_width")

    def library_toolbar(self) -> pn.Row:
        return pn.Row(self.picker, self.open_button, self.template, self.new_button, self.back_button,
                      sizing_mode="stretch_width")

    def side(self) -> pn.Column:
        return pn.Column(
            pn.Row(self.check_button, self.stop_button, self.progress), self.summary,
            markup.html("<h3 style='margin:4px 0'>Argument map</h3>"), self.map,
            markup.html("<h3 style='margin:4px 0'>Problems</h3>"), self.goto, self.messages_pane, width=380,
            css_classes=["story-side"])

    def __panel__(self):
        return pn.Column(self.alert, self.status, self.sign_in, self._library_part, self._story_part,
                         sizing_mode="stretch_width")


def sync_url(editor: StoryEditor) -> None:
    """`?story=NAME` opens that story when the page loads; the link then follows the open story."""
    location = pn.state.location
    if location is None:  # not served
        return
    pairs, unread = read_link(location.search or "")
    if unread:
        editor.show_alert(f"This link could not be used: {unread}.")
    names = [v for k, v in pairs if k == "story"]
    if names and editor.open(names[0]):
        items = [v for k, v in pairs if k == "item"]
        kind, _, item = (items[0] if items else "").partition(":")
        if items and kind in KIND_TAB:
            # Once the page is in the browser: a scroll sent before that has no column to scroll.
            pn.state.onload(lambda: editor.focus(kind, item))
        elif items:
            editor.show_alert(f"This link's item {items[0]!r} is not a claim, criterion, assumption or evidence "
                              "(KIND:ID, for example claim:GS1).")

    def write(*_):
        shown = editor.story_name if editor.mode == "story" else None
        location.search = "?" + urlencode({"story": shown}, safe="/") if shown else ""

    editor.param.watch(write, ["story_name", "mode"])
