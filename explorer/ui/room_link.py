"""Share for the room: a link that shows participants only the controls the teacher chose.

As TensorFlow Playground's hide-controls links do, the link carries every setting, and the controls not
named stay at the link's values, hidden. Two link names, read and written by explorer.ui.url:

- `show=w_simplicity,w_max,w_avg`: exactly these controls (flat parameter names; `scenario` is the preset
  picker and its reset button; `kind_mix` is the five shares of the mix).
- `mode=simple`: only the three penalty weights and the misbehaviour costs (SIMPLE). The costs are the
  three settings that are extra compute a misbehaving program pays: a goof-off's `misbehaviour_cost`, a
  deceptive program's `deception_overhead`, and what evading the deception check costs it,
  `deception_check_strength`. (`memory` is a saving on a cost, and the other misbehaviour settings say
  how programs are made; they stay with the full controls.)

`show=` wins over `mode=`. A name that is not a control is one message naming `show` and listing the
names it takes; the names are looked up in SHOWABLE, never evaluated.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import panel as pn
import param

from explorer.params import quoted
from explorer.ui import markup
from explorer.ui.controls import GROUPS, LABELS, Controls
from explorer.ui.deferred import after_update
from explorer.ui.url import SAFE

#: The preset picker (and its reset button), named as the link names the preset.
PRESET = "scenario"
#: Every name `show=` takes, in the page's order.
SHOWABLE = (PRESET, *(n for names in GROUPS.values() for n in names))
#: Simple mode: the three penalty weights and the misbehaviour costs (see the module's docstring).
SIMPLE = ("w_simplicity", "w_max", "w_avg", "misbehaviour_cost", "deception_overhead", "deception_check_strength")
MODES = ("full", "simple")
#: The names of a link this part reads and writes.
LINK_NAMES = ("mode", "show")


def parse_show(text: str) -> tuple[tuple[str, ...] | None, list[str]]:
    """The controls a `show=` value names (in the page's order; None: every control) and at most one
    message, naming `show` and the names it takes, about names that are not controls."""
    names = [n.strip() for n in text.split(",")[:len(SHOWABLE) + 20] if n.strip()]
    unknown = list(dict.fromkeys(n for n in names if n not in SHOWABLE))
    known = tuple(n for n in SHOWABLE if n in names)
    problems = []
    if unknown:
        listed = ", ".join(quoted(n, 40) for n in unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        problems.append(f"show: {listed} {'is' if len(unknown) == 1 else 'are'} not one of: {', '.join(SHOWABLE)}"
                        + ("" if known else "; every control is shown"))
    elif not known:
        problems.append(f"show: names no control; every control is shown (it takes: {', '.join(SHOWABLE)})")
    return known or None, problems


def view_pairs(mode: str, show: tuple[str, ...] | None) -> list[tuple[str, str]]:
    """The link's pairs for a view: none for every control, `mode=simple` for SIMPLE, else `show=`."""
    if show is not None and tuple(show) != SHOWABLE:
        return [("mode", "simple")] if tuple(show) == SIMPLE else [("show", ",".join(show))]
    return [("mode", "simple")] if mode == "simple" and show is None else []


class RoomLink(pn.viewable.Viewer):
    """Which controls this page shows (its link's `show=`/`mode=`), the simple-mode switch, and the
    builder of a link for the room."""

    mode = param.Selector(default="full", objects=list(MODES), doc="simple: only the weights and misbehaviour costs.")
    show = param.List(default=None, allow_None=True, item_type=str,
                      doc="Exactly the controls shown (names in SHOWABLE); none: as the mode says.")
    preset_visible = param.Boolean(True, doc="Whether the preset picker and its reset show.")
    restricted = param.Boolean(False, doc="Whether some controls are hidden (the builder hides with them).")
    link = param.String("", doc="The link for the room: the page's settings and the chosen controls.")

    link_names = LINK_NAMES
    link_watch = ("mode", "show")

    def __init__(self, controls: Controls, query, **params):
        """`query()` gives the page's own link (explorer.ui.url.link_query of its dashboard)."""
        super().__init__(**params)
        self.controls, self._query = controls, query
        self.simple = pn.widgets.Checkbox(label="Simple mode: only the weights and misbehaviour costs",
                                          value=self.mode == "simple")
        self.simple.param.watch(lambda e: self.param.update(mode="simple" if e.new else "full", show=None), "value")
        self.show_all = pn.widgets.Button(label="Show every control", color="light", visible=False,
                                          description="This link shows only some controls; show them all.")
        self.show_all.on_click(lambda _: self.param.update(mode="full", show=None))
        labels = {PRESET: "Preset picker", **LABELS, "kind_mix": "Kinds' shares of the mix"}
        self.choices = {title: pn.widgets.CheckBoxGroup(options={labels[n]: n for n in names}, value=list(names),
                                                        inline=False, sizing_mode="stretch_width")
                        for title, names in {"Preset": [PRESET], **GROUPS}.items()}
        self.text = pn.widgets.TextAreaInput(label="Link for the room (select and copy)", value="", rows=4,
                                             sizing_mode="stretch_width")
        everything = pn.widgets.Button(label="All", color="light", width=60)
        everything.on_click(lambda _: self.choose(SHOWABLE))
        simple = pn.widgets.Button(label="Simple set", color="light", width=100)
        simple.on_click(lambda _: self.choose(SIMPLE))
        self._quick = pn.Row(everything, simple)
        for box in self.choices.values():
            box.param.watch(lambda *_: self.update_link(), "value")
        # After the update, like the address bar (explorer.ui.deferred).
        self.controls.state.param.watch(lambda *_: after_update(self.update_link), "version")
        self.param.watch(self._apply_view, ["mode", "show"])
        self.param.watch(lambda *_: self.update_link(), ["mode", "show"])
        self.update_link()

    # ---- this page's view ---------------------------------------------------------------------------

    def shown(self) -> tuple[str, ...]:
        """The controls this page shows."""
        if self.show is not None:
            return tuple(self.show)
        return SIMPLE if self.mode == "simple" else SHOWABLE

    def _apply_view(self, *_) -> None:
        shown = self.shown()
        with pn.io.hold():
            self.controls.show_only(None if shown == SHOWABLE else set(shown))
            self.preset_visible = PRESET in shown
            self.restricted = shown != SHOWABLE
            self.show_all.visible = self.show is not None and self.restricted
            self.simple.value = self.mode == "simple" and self.show is None

    def link_pairs(self) -> list[tuple[str, str]]:
        return view_pairs(self.mode, None if self.show is None else tuple(self.show))

    def apply_link(self, values: dict[str, str]) -> list[str]:
        """Read `mode=` and `show=` from a link; one message per unusable one."""
        problems, update = [], {}
        if "mode" in values:
            if values["mode"] in MODES:
                update["mode"] = values["mode"]
            else:
                problems.append(f"mode: {quoted(values['mode'])} is not one of: {', '.join(MODES)}")
        if "show" in values:
            show, problems_show = parse_show(values["show"])
            problems += problems_show
            update["show"] = None if show is None else list(show)
        if update:
            self.param.update(**update)
        return problems

    # ---- the builder ------------------------------------------------------------------------------------

    def chosen(self) -> tuple[str, ...]:
        """The controls ticked in the builder, in the page's order."""
        ticked = {n for box in self.choices.values() for n in box.value}
        return tuple(n for n in SHOWABLE if n in ticked)

    def choose(self, names) -> None:
        """Tick exactly `names` in the builder."""
        with pn.io.hold():
            for box in self.choices.values():
                box.value = [n for n in box.options.values() if n in names]
        self.update_link()

    def update_link(self) -> None:
        """The room's link: this page's settings (and pin) with the builder's controls instead of its own."""
        base = [(k, v) for k, v in parse_qsl(self._query().lstrip("?"), keep_blank_values=True) if k not in LINK_NAMES]
        chosen = self.chosen()
        pairs = base + (view_pairs("full", chosen) if chosen else [])  # nothing ticked: nothing hidden
        location = pn.state.location
        page = location.href.split("?", 1)[0] if location is not None and location.href else ""
        self.link = f"{page}?{urlencode(pairs, safe=SAFE)}"
        self.text.value = self.link

    def builder(self) -> pn.Card:
        """The card the teacher uses: a tick per control, and the link to copy."""
        boxes = [pn.Column(markup.markdown(f"**{title}**", margin=(0, 10)), box, sizing_mode="stretch_width")
                 for title, box in self.choices.items()]
        intro = markup.markdown("Tick what participants see; the rest stays at this page's values, hidden.",
                                margin=(0, 10))
        card = markup.card("Share for the room", intro, self._quick, *boxes, self.text, collapsed=True,
                           sizing_mode="stretch_width", visible=self.param.restricted.rx.not_())
        # Opened: the link as the page is now (a page setting outside the simulation, such as the type size,
        # changes the page's link without a recompute).
        card.param.watch(lambda e: None if e.new else self.update_link(), "collapsed")
        return card

    def __panel__(self):
        return pn.Column(self.simple, self.show_all, sizing_mode="stretch_width")
