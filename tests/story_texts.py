"""Story files written as text, for the tests that need a story with chosen (often hostile) words in it."""


def story(title: str, claim: str, body: str = "Narrative.\n", evidence_id: str = "E1") -> str:
    return f"""\
---
schema: 1
title: '{title}'
revision: 1
goal_class: narrow-agent
components:
  goal_specification:
    claims:
      - id: GS1
        text: '{claim}'
        evidence: ['{evidence_id}']
  goal_desirability:
    undeveloped: true
  rationale_constraints:
    undeveloped: true
  rationale_nudges:
    undeveloped: true
criteria:
  goal_alignment: {{rating: unknown, basis: [GS1]}}
  goal_competitiveness: {{rating: unknown, basis: [GS1]}}
  rationale_alignment: {{rating: unknown, basis: [GS1]}}
  rationale_competitiveness: {{rating: unknown, basis: [GS1]}}
evidence:
  - id: '{evidence_id}'
    scenario: goof-off
    params: {{n_programs: 20000}}
    predicate: {{metric: average_speed.map.kind, op: ==, value: honest}}
---
{body}"""
