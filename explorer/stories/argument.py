"""A story as an argument map: criteria rest on claims, claims rest on claims and on evidence, evidence
assumes assumptions. A graph of plain data, so the apps draw it and a test reads it without a plot.

Nodes, in the columns they are drawn in (left to right, the direction an argument is read in):

    criterion --rests on--> claim --rests on--> claim --is evidence for (reversed)--> evidence --assumes--> assumption

Every edge is kept in the model's own direction and words: a criterion's `basis` ("rests on"), a claim's
`rests_on` ("rests on"), a claim's `evidence` (the evidence "is evidence for" the claim; an external
source "supports" or "refutes" it, as its finding says), and a simulated evidence's `assumptions` (the
evidence "assumes" the assumption, at its nominal value).

Each node has a `status` in the project's one vocabulary (evidence.STATUSES: supported, refuted, stale,
undeveloped, unchecked), given by the caller, so the map shows exactly what `story check` or the editor's
last check says; criteria and assumptions have no status of their own (None) and say their rating or
nominal value instead. `here` is the separate verdict of a page's current settings (holds / fails /
None), which never changes a status. A reference to an id the story does not define becomes a node of
status "undefined", so the hole is visible where validation (TS-V04) names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from explorer.stories.cells import describe_cell
from explorer.stories.model import Story
from explorer.stories.vocabulary import CRITERIA

__all__ = ["COLUMNS", "KINDS", "RELATIONS", "Argument", "Edge", "Node", "argument", "node_key", "short"]

#: The kinds of node, in the column order they are drawn in.
KINDS = ("criterion", "claim", "evidence", "assumption")
COLUMNS = {kind: i for i, kind in enumerate(KINDS)}
#: Every relation an edge can have ("supports" / "refutes": an external source's finding).
RELATIONS = ("rests on", "is evidence for", "supports", "refutes", "assumes")
#: The status of a node whose id the story references but does not define.
UNDEFINED = "undefined"
#: Short names of the criteria for a narrow map (the hover shows the whole question).
CRITERION_SHORT = {"goal_alignment": "goal align.", "goal_competitiveness": "goal compet.",
                   "rationale_alignment": "ration. align.", "rationale_competitiveness": "ration. compet."}


def node_key(kind: str, item: str) -> str:
    """A node's key: kinds have separate namespaces in a story (a claim and an evidence may share an id)."""
    return f"{kind}:{item}"


def short(text: str, limit: int = 60) -> str:
    """One line of at most `limit` characters (an ellipsis marks a cut)."""
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Node:
    """One part of the story: its kind, id, a one-line text, and its status (None: it has none)."""

    kind: str
    item: str
    text: str = ""
    status: str | None = None
    here: str | None = None  # "holds" / "fails" at a page's current settings; None: not evaluated there
    detail: str = ""  # a rating, a nominal value, a component: said beside the text
    column: int = 0
    row: int = 0

    @property
    def key(self) -> str:
        return node_key(self.kind, self.item)

    @property
    def label(self) -> str:
        """What the map writes beside the node."""
        return CRITERION_SHORT.get(self.item, self.item) if self.kind == "criterion" else self.item


@dataclass(frozen=True)
class Edge:
    """`source relation target`, read as a sentence: 'RN1 rests on RC2', 'map-honest is evidence for GS1'."""

    source: str
    target: str
    relation: str


@dataclass
class Argument:
    """The nodes (in drawing order, with their column and row) and edges of one story."""

    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def node(self, key: str) -> Node:
        return next(n for n in self.nodes if n.key == key)

    def keys(self) -> list[str]:
        return [n.key for n in self.nodes]

    def rows(self) -> int:
        """The most nodes in one column (the map's height in rows)."""
        return max((sum(n.column == c for n in self.nodes) for c in COLUMNS.values()), default=0)

    def with_statuses(self, statuses: Mapping[str, str | None], here: Mapping[str, str | None] | None = None
                      ) -> Argument:
        """The same map with new statuses and here-verdicts, by node key (absent keys keep theirs / lose `here`)."""
        here = here or {}
        nodes = [replace(n, status=statuses.get(n.key, n.status), here=here.get(n.key)) for n in self.nodes]
        return Argument(nodes, list(self.edges))


def argument(story: Story, claim_statuses: Mapping[str, str] | None = None,
             evidence_statuses: Mapping[str, str] | None = None,
             here: Mapping[str, str] | None = None) -> Argument:
    """The story's argument map. `claim_statuses` and `evidence_statuses` by id (missing: "unchecked");
    `here` by node key ("holds" / "fails")."""
    claim_statuses, evidence_statuses, here = claim_statuses or {}, evidence_statuses or {}, here or {}
    claims, evidence, assumptions = story.claims(), story.evidence_by_id(), story.assumption_by_name()
    component = story.claim_component()
    nodes: dict[str, Node] = {}
    edges: list[Edge] = []

    def add(node: Node) -> str:
        nodes.setdefault(node.key, node)
        return node.key

    def ref(kind: str, item: str, defined: bool) -> str:
        if defined:
            return node_key(kind, item)
        return add(Node(kind, item, "not defined in the story", UNDEFINED, column=COLUMNS[kind]))

    for name in CRITERIA:
        crit = story.criteria.get(name)
        if crit is None:
            continue
        detail = f"rated {crit.rating}" if crit.rating else "no rating"
        add(Node("criterion", name, CRITERIA[name], None, detail=detail, column=COLUMNS["criterion"]))
    for cid, claim in claims.items():
        status = claim_statuses.get(cid, "undeveloped" if claim.undeveloped or not claim.evidence else "unchecked")
        add(Node("claim", cid, claim.text, status, here.get(node_key("claim", cid)),
                 detail=component[cid].replace("_", " "), column=COLUMNS["claim"]))
    for eid, ev in evidence.items():
        if ev.cell is not None:
            detail = describe_cell(ev.cell)
        elif ev.simulated:
            detail = f"{ev.scenario}: {ev.predicate.text() if ev.predicate is not None else 'no predicate'}"
        else:
            detail = f"external source, {ev.finding or 'no finding'}"
        text = ev.note or (ev.source or "" if ev.external else "")
        add(Node("evidence", eid, text, evidence_statuses.get(eid, "unchecked"), here.get(node_key("evidence", eid)),
                 detail=detail, column=COLUMNS["evidence"]))
    for name, a in assumptions.items():
        add(Node("assumption", name, a.note, None, detail=f"{a.parameter} = {a.nominal:g} (range {a.range[0]:g} to "
                                                         f"{a.range[1]:g})", column=COLUMNS["assumption"]))

    for name in CRITERIA:
        crit = story.criteria.get(name)
        for cid in (crit.basis if crit is not None else []):
            edges.append(Edge(node_key("criterion", name), ref("claim", cid, cid in claims), "rests on"))
    for cid, claim in claims.items():
        for other in claim.rests_on:
            edges.append(Edge(node_key("claim", cid), ref("claim", other, other in claims), "rests on"))
        for eid in claim.evidence:
            ev = evidence.get(eid)
            relation = "is evidence for" if ev is None or not ev.external else (ev.finding or "supports")
            edges.append(Edge(ref("evidence", eid, ev is not None), node_key("claim", cid), relation))
    for eid, ev in evidence.items():
        for name in ev.assumptions:
            edges.append(Edge(node_key("evidence", eid), ref("assumption", name, name in assumptions), "assumes"))
    edges = list(dict.fromkeys(edges))
    return Argument(_layered(list(nodes.values()), edges), edges)


def _layered(nodes: list[Node], edges: list[Edge]) -> list[Node]:
    """Rows within each column: claims in reading order; criteria, evidence and assumptions each at the
    mean row of the claims (or evidence) they connect to, so few edges cross (the barycentre heuristic of
    layered graph drawing)."""
    by_column: dict[int, list[Node]] = {c: [n for n in nodes if n.column == c] for c in COLUMNS.values()}
    row: dict[str, float] = {n.key: i for i, n in enumerate(by_column[COLUMNS["claim"]])}
    neighbours: dict[str, list[str]] = {n.key: [] for n in nodes}
    for e in edges:
        neighbours[e.source].append(e.target)
        neighbours[e.target].append(e.source)

    def place(column: int, anchors: dict[str, float]) -> None:
        items = by_column[column]
        order = {n.key: i for i, n in enumerate(items)}

        def centre(n: Node) -> float:
            seen = [anchors[k] for k in neighbours[n.key] if k in anchors]
            return sum(seen) / len(seen) if seen else float("inf")

        items.sort(key=lambda n: (centre(n), order[n.key]))
        row.update({n.key: i for i, n in enumerate(items)})

    claims = dict(row)
    place(COLUMNS["criterion"], claims)
    place(COLUMNS["evidence"], claims)
    place(COLUMNS["assumption"], {n.key: row[n.key] for n in by_column[COLUMNS["evidence"]]})
    return [replace(n, row=int(row[n.key])) for c in COLUMNS.values() for n in by_column[c]]
