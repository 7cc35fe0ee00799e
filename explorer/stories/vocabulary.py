"""The fixed words of a training story: components, classes, criteria, ratings and failure modes.

Ids are kebab-case for values a user types (classes, failure modes, ratings) and snake_case for keys of
the front matter (components, criteria), so a story file reads like YAML written by hand.
"""

from __future__ import annotations

#: The four components, in reading order: the training goal (what we want and why), then the
#: training rationale (why training should produce it).
COMPONENTS = {
    "goal_specification": "Training goal: specification",
    "goal_desirability": "Training goal: desirability",
    "rationale_constraints": "Training rationale: constraints",
    "rationale_nudges": "Training rationale: nudges",
}

#: Claim-id prefixes suggested for each component (the editor uses them for new claims).
CLAIM_PREFIX = {
    "goal_specification": "GS",
    "goal_desirability": "GD",
    "rationale_constraints": "RC",
    "rationale_nudges": "RN",
}

#: Broad kinds of model a training goal can aim at.
GOAL_CLASSES = {
    "loss-minimizing-model": "Loss-minimising model: internally pursues the training signal itself",
    "fully-aligned-agent": "Fully aligned agent: wants what we want and acts on it",
    "corrigible-agent": "Corrigible agent: helps its overseers stay informed and in control",
    "myopic-agent": "Myopic agent: optimises only a bounded, near-term objective",
    "simulator": "Simulator: only imitates some other process",
    "narrow-agent": "Narrow agent: capable in one domain and blind to the rest",
    "truthful-question-answerer": "Truthful question-answerer: reports what its world model says",
}

#: Broad kinds of reason to believe training reaches the goal.
RATIONALE_CLASSES = {
    "capability-limitations": "Capability limitations: the model cannot do the dangerous thing",
    "inductive-bias-analysis": "Inductive bias analysis: predict which model the training bias favours",
    "transparency-interpretability": "Transparency and interpretability: inspect the model during training",
    "automated-oversight": "Automated oversight: models help inspect models",
    "ai-cognitive-science": "AI cognitive science: test theories of the model by its behaviour",
    "precursor-checking": "Precursor checking: check for a precursor of the failure, not the failure",
    "loss-landscape-analysis": "Loss landscape analysis: which paths training can take",
    "game-theoretic-analysis": "Game-theoretic or evolutionary analysis: equilibria of a multi-agent setup",
}

#: The four criteria a story is judged on.
CRITERIA = {
    "goal_alignment": "Goal alignment: would reaching the goal be good?",
    "goal_competitiveness": "Goal competitiveness: would the goal be useful enough to compete?",
    "rationale_alignment": "Rationale alignment: will training actually reach the goal?",
    "rationale_competitiveness": "Rationale competitiveness: is the training affordable next to alternatives?",
}

#: Ratings of a criterion, strongest first.
RATINGS = ("strong", "moderate", "weak", "fails", "unknown")

#: Known ways a story can go wrong, which a story may say it addresses.
FAILURE_MODES = {
    "objective-misgeneralisation": "The capabilities generalise but are aimed at the wrong objective",
    "mesa-optimisation": "The model runs an optimiser of its own that the goal did not ask for",
    "outer-alignment": "Optimising the training signal would itself be bad",
    "inner-alignment": "The model does not optimise the signal it was trained on",
    "deceptive-alignment": "The model plays along in training in order to defect later",
}

#: What an external source says of the claims that cite it.
FINDINGS = ("supports", "refutes")
