"""The story editor: open a story from the library, edit every part, check it, save it without losing work.

The editor holds one Story (the model) and the forms of explorer.ui.story_forms bound to it. Every edit
changes the model; the editor then re-validates the text the story would be saved as (so messages are
located at the lines of that file) and shows the messages in a list and under the part they are about.

Check runs the evidence in a background thread and shows each claim's status as a coloured badge.
Save goes through the library's revision check: if someone saved the story since this page opened it,
the save is refused with a clear message and the edits stay in the page, ready for Save as or download.

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
from typing import Any, Callable, Mapping
from urllib.parse import urlencode

import panel as pn
import param

from explorer.errors import ExplorerError
from explorer.stories import fileformat
from explorer.stories.evidence import STATUSES, Result, claim_statuses, evidence_status, run
from explorer.stories.library import StoryConflictError, StoryLibrary, check_name
from explorer.stories.messages import Message, StoryFormatError
from explorer.stories.model import ClassChoice, Story
from explorer.stories.render import safe_html
from explorer.stories.validate import validate
from explorer.stories.vocabulary import COMPONENTS, CRITERIA
from explorer.ui import markup
from explorer.ui.story_forms import (
    AssumptionForm, Choices, ComponentForm, CriterionForm, EvidenceForm, HeaderForm, ListForm, SweepForm,
    badge, new_assumption, new_evidence, new_sweep,
)
from explorer.ui.sweep_map import SweepRunner
from explorer.ui.url import read_link

log = logging.getLogger(__name__)

TEMPLATES = "templates/"
BLANK = "(blank story)"


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


def messages_html(messages: list[Message]) -> str:
    """Messages as an escaped HTML list, errors in red, warnings in amber."""
    colour = {"error": "#b00020", "warning": "#8a5a00"}
    items = "".join(f"<li class='story-message story-{m.severity}' style='color:{colour[m.severity]}'>"
                    f"{markup.html_text(str(m))}</li>" for m in messages)
    return f"<ul class='story-messages' style='padding-left:1.2em;margin:0'>{items}</ul>" if items else ""


class StoryEditor(pn.viewable.Viewer):
    """Open, edit, check and save a training story from a story library."""

    story_name = param.String(default=None, allow_None=True,
                              doc="The library name of the story being edited (none: not saved yet).")
    opened_revision = param.Integer(default=None, allow_None=True,
                                    doc="The revision this page opened (the save check compares it).")
    dirty = param.Boolean(False, doc="Whether there are edits not saved yet.")
    running = param.Boolean(False, doc="Whether a check is running.")

    def __init__(self, library: StoryLibrary | None = None, story: str | None = None, **params):
        """`story`: the library name to open first (else a blank story)."""
        super().__init__(**params)
        self.library = library or StoryLibrary()
        self.story: Story = blank_story()
        self.messages: list[Message] = []
        self._checked: dict[str, tuple[Result, Any, dict]] = {}
        self._check_problems: dict[str, str] = {}
        self._stop = False
        self._building = False

        # toolbar
        self.picker = pn.widgets.Select(label="Story", options=[], width=260, css_classes=["story-picker"])
        self.open_button = pn.widgets.Button(label="Open", color="primary", width=80, align="end")
        self.template = pn.widgets.Select(label="New from template", options=[BLANK], width=240)
        self.new_button = pn.widgets.Button(label="New", color="light", width=70, align="end")
        self.save_button = pn.widgets.Button(
            label="Save", color="primary", width=80, align="end",
            description="Save over the story you opened (refused if someone saved it since)")
        self.save_as_name = pn.widgets.TextInput(label="Save as (name in the library)",
                                                 placeholder="my-stories/first-try", width=260)
        self.save_as_button = pn.widgets.Button(label="Save as", color="light", width=90, align="end")
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
        self.summary = markup.html("", sizing_mode="stretch_width")
        self.preview = markup.html("", sizing_mode="stretch_width", css_classes=["story-preview"])
        self.body = pn.widgets.TextAreaInput(label="Narrative (Markdown)", auto_grow=True, rows=8, max_rows=40,
                                             sizing_mode="stretch_width", css_classes=["story-body"])
        self.body.param.watch(self._body_edited, ["value", "value_input"])

        self._sections = {key: pn.Column(sizing_mode="stretch_width") for key in
                          ("header", "components", "criteria", "assumptions", "evidence", "sweeps")}
        self.sweep_runner = SweepRunner(story=None)
        self.refresh_library()
        if story is None or not self.open(story):
            self._load(blank_story(), None, None)

    # ---- the library ---------------------------------------------------------------------------

    @_guarded
    def refresh_library(self) -> None:
        """Re-read the library's names into the pickers."""
        names = self.library.names()
        self.picker.options = names
        if self.story_name in names:
            self.picker.value = self.story_name
        self.template.options = [BLANK] + [n for n in names if n.startswith(TEMPLATES)]

    @_guarded
    def open(self, name: str | None) -> bool:
        """Open a story from the library (a file that does not load shows its located messages)."""
        if not name:
            raise ExplorerError("choose a story to open")
        story = self.library.open(name)
        self._load(story, name, story.revision)
        self.show_alert("")
        return True

    @_guarded
    def new(self, template: str | None = None) -> bool:
        """Start a new, unsaved story: blank, or a copy of a library template."""
        story = blank_story() if template is None else self.library.open(template)
        self._load(story, None, None)
        self.dirty = True
        self.show_alert("New story: give it a name and press Save as to keep it.", kind="info")
        return True

    @_guarded
    def save(self) -> bool:
        """Save over the opened story; refused, keeping the edits here, if the file moved on since it was opened."""
        if self.story_name is None or self.opened_revision is None:
            raise ExplorerError("this story has not been saved yet: type a name under 'Save as' and press Save as")
        try:
            saved = self.library.save(self.story, self.story_name, self.opened_revision)
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
        try:
            saved = self.library.save_as(self.story, new_name)
        except StoryFormatError as exc:
            self._unloadable(exc)
            return False
        self._saved(saved, new_name)
        self.refresh_library()
        self.show_alert(f"Saved as {new_name} (revision {saved.revision}).", kind="success")
        return True

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
            self._sections["header"][:] = [self.header.panel()]
            self._sections["components"][:] = [f.layout for f in self.components.values()]
            self._sections["criteria"][:] = [f.layout for f in self.criteria.values()]
            self._sections["assumptions"][:] = [self.assumptions.layout]
            self._sections["evidence"][:] = [self.evidence.layout]
            self._sections["sweeps"][:] = [self.sweeps.layout, self.sweep_runner]
            self.sweep_runner.story = story
            self.body.value = story.body
            self.preview.object = safe_html(story.body)
        finally:
            self._building = False
        self.story_name, self.opened_revision, self.dirty = name, revision, False
        if name is not None and name in self.picker.options:
            self.picker.value = name
        self.download.filename = f"{(name or 'story').rsplit('/', 1)[-1]}{fileformat.SUFFIX}"
        self._revalidate()

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
        self.messages_pane.object = messages_html(self.messages) or "<i>No problems found.</i>"
        self._inline_messages(reloaded)
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
                out.append((source.lc.key(key)[0] + 2, None))
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

    def _inline_messages(self, reloaded: Story | None) -> None:
        targets = self._targets(reloaded)
        found: dict[int, tuple[Any, list[Message]]] = {}
        for m in self.messages:
            owner = None
            for line, form in targets:
                if line > m.line:
                    break
                owner = form
            if owner is not None and m.line:
                found.setdefault(id(owner), (owner, []))[1].append(m)
        for form in self._all_forms():
            owner, msgs = found.get(id(form), (form, []))
            form.messages.object = messages_html(msgs)
            form.messages.visible = bool(msgs)

    def _all_forms(self) -> list[Any]:
        forms: list[Any] = []
        for comp in self.components.values():
            forms += [comp, *comp.claims]
        return forms + list(self.criteria.values()) + self.assumptions.forms + self.evidence.forms + self.sweeps.forms

    def errors(self) -> list[Message]:
        return [m for m in self.messages if m.severity == "error"]

    def _update_status(self) -> None:
        errors = len(self.errors())
        warnings = len(self.messages) - errors
        where = (f"<b>{markup.html_text(self.story_name)}</b>, revision {self.opened_revision}" if self.story_name
                 else "<b>not saved yet</b>")
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
        except Exception as exc:  # noqa: BLE001 - shown, and the session lives on
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
            if not ev.simulated:
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

    def toolbar(self) -> pn.Column:
        return pn.Column(
            pn.Row(self.picker, self.open_button, self.template, self.new_button),
            pn.Row(self.save_button, self.save_as_name, self.save_as_button, self.download),
            sizing_mode="stretch_width")

    def side(self) -> pn.Column:
        return pn.Column(
            markup.html("<h3>Check</h3>"), pn.Row(self.check_button, self.stop_button, self.progress), self.summary,
            markup.html("<h3>Problems</h3>"), self.messages_pane, width=380)

    def __panel__(self):
        cards = [
            markup.card("Story", self._sections["header"], sizing_mode="stretch_width"),
            self._sections["components"],
            markup.card("Criteria", self._sections["criteria"], sizing_mode="stretch_width"),
            markup.card("Assumptions", self._sections["assumptions"], sizing_mode="stretch_width"),
            markup.card("Evidence", self._sections["evidence"], sizing_mode="stretch_width"),
            markup.card("Sensitivity sweeps", self._sections["sweeps"], sizing_mode="stretch_width", collapsed=True),
            markup.card("Narrative", pn.Row(self.body, self.preview), sizing_mode="stretch_width"),
        ]
        main = pn.Column(self.toolbar(), self.alert, self.status, *cards, sizing_mode="stretch_width")
        return pn.Row(main, self.side(), sizing_mode="stretch_width")


def sync_url(editor: StoryEditor) -> None:
    """`?story=NAME` opens that story when the page loads; the link then follows the open story."""
    location = pn.state.location
    if location is None:  # not served
        return
    pairs, unread = read_link(location.search or "")
    if unread:
        editor.show_alert(f"This link could not be used: {unread}.")
    names = [v for k, v in pairs if k == "story"]
    if names:
        editor.open(names[0])

    def write(*_):
        location.search = "?" + urlencode({"story": editor.story_name}, safe="/") if editor.story_name else ""

    editor.param.watch(write, "story_name")
