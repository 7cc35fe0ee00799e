"""A short training story for each scenario, in four plain-text components.

A training story says what model we want and why training should produce it. Its four parts:

- goal_specification: the mechanism we want the selected program to have (how it works, not only
  what it outputs);
- goal_desirability: why any program with that mechanism would be safe and do the job;
- rationale_constraints: what every program the training can select must satisfy, and why the goal
  meets those conditions;
- rationale_nudges: why, among everything that meets the constraints, training should land on the goal.

These texts seed the editable story fields (explorer.ui.story_fields) until the structured story editor
replaces them. Where a scenario shows a failure (memory, the fastest program being deceptive, deception
being simpler), the story states the assumption the preset breaks, so the reader sees where it fails.
"""

from __future__ import annotations

#: The four components, in the order a story is read.
COMPONENTS = ("goal_specification", "goal_desirability", "rationale_constraints", "rationale_nudges")

#: Human labels for the components.
LABELS = {
    "goal_specification": "Training goal: specification",
    "goal_desirability": "Training goal: desirability",
    "rationale_constraints": "Training rationale: constraints",
    "rationale_nudges": "Training rationale: nudges",
}

STORIES: dict[str, dict[str, str]] = {
    "goof-off": {
        "goal_specification": (
            "A program that spends compute only on the task in front of it: on an easy task it uses what "
            "the task needs and then stops, instead of filling its spare capacity with unrelated work."),
        "goal_desirability": (
            "Computation spent on something other than the task is the general shape of misbehaviour, so a "
            "program with no side activity has nowhere to run it. Nothing is lost on the tasks either, since "
            "goofing off never raised a score."),
        "rationale_constraints": (
            "The selected program must reach the performance threshold on the training and held-out tasks "
            "within the capacities the program space offers. An honest program and a goof-off with the same "
            "capacity and efficiency solve exactly the same tasks, so both meet these constraints."),
        "rationale_nudges": (
            "Training adds a penalty on compute averaged over the training tasks. A goof-off pays for its "
            "waste on every easy task, so the honest program is cheaper; this relies on the task mix having "
            "easy tasks with slack, and on the penalty counting average compute, since the most a program "
            "could spend is the same for both kinds."),
    },
    "deceptive-planner": {
        "goal_specification": (
            "An honest solver: every step of its computation on a task goes into solving it, and no part of "
            "it models the training process, plans for after deployment, or tests whether it is deployed."),
        "goal_desirability": (
            "Such a program acts after deployment as it did in training, because nothing in it depends on "
            "the difference; the defection that makes deceptive programs dangerous has no machinery to run on."),
        "rationale_constraints": (
            "The program must solve enough training and held-out tasks. Deceptive programs pass as well, since "
            "they play along until deployment, so the constraints alone do not exclude them; the honest solver "
            "meets them at least as easily because no overhead eats into its capacity."),
        "rationale_nudges": (
            "An average-case speed penalty charges the deceptive programs for the planning and checking they "
            "do on every task, which earns them no score. The argument assumes that this overhead is paid "
            "afresh on each task and that honest programs about as efficient as the deceptive ones exist."),
    },
    "lookup-table": {
        "goal_specification": (
            "A program that works out each answer with a general procedure, the same one on tasks it was "
            "trained on and on tasks it has never seen, rather than retrieving stored answers."),
        "goal_desirability": (
            "Only a general procedure keeps working after training, on new tasks and in deployment; a table "
            "of memorised answers is right exactly where it was shown the answer and useless elsewhere."),
        "rationale_constraints": (
            "The program must pass the threshold on the training tasks and, crucially, on held-out tasks from "
            "the same distribution. Without the held-out requirement a table of memorised answers meets every "
            "constraint, and this preset starts with that requirement switched off."),
        "rationale_nudges": (
            "A speed penalty pushes towards the cheapest program that meets the constraints, which is the table "
            "whenever it is admitted; so the story depends on the held-out check to remove the table, after "
            "which the penalty picks the cheapest general solver. The bits a table spends per stored answer "
            "give the simplicity bias a second, independent reason to avoid it."),
    },
    "memory": {
        "goal_specification": (
            "An honest solver, as in the planning preset, in a setting where programs can carry information "
            "from one episode into the next."),
        "goal_desirability": (
            "As before, no part of the program depends on whether it is deployed, so its training behaviour "
            "carries over. Memory is not the danger in itself; the worry is that it lets a deceptive program "
            "keep its plans."),
        "rationale_constraints": (
            "The program must solve the training and held-out tasks. Deceptive programs with memory still "
            "pass, and since they reuse stored plans, more of their capacity is left for the tasks."),
        "rationale_nudges": (
            "The nudge is the average-case speed penalty, but it only sees compute spent during training "
            "episodes. When most of the deceptive overhead is remembered rather than redone, most of that "
            "charge disappears, so this story needs memory to be unavailable or a further nudge, such as "
            "deception checks, that remembering cannot avoid."),
    },
    "deception-checks": {
        "goal_specification": (
            "An honest solver that does no work to slip past inspection, because it has nothing to conceal "
            "from the checks run during training."),
        "goal_desirability": (
            "A program with nothing to hide from deception checks has no reason to change its behaviour once "
            "the checks stop, which is what we need from it after deployment."),
        "rationale_constraints": (
            "The program must look good on the tasks and get past the deception checks. The checks are assumed "
            "never to catch anyone outright: a deceptive program that spends enough compute always evades "
            "them, so as constraints they exclude nothing."),
        "rationale_nudges": (
            "Evading the checks costs compute on every task, and the average-case speed penalty charges for "
            "it on top of the planning. The checks thus work through the speed prior: the story needs them "
            "to demand real effort to evade, and the penalty to be strong enough to notice that effort."),
    },
    "fastest-is-deceptive": {
        "goal_specification": (
            "An honest solver that is also the fastest program meeting the performance bar, so that a search "
            "that favours speed lands on it."),
        "goal_desirability": (
            "When the fastest good-looking program is honest, speed and safety point the same way and the "
            "speed prior can be trusted; this preset asks what happens when they do not."),
        "rationale_constraints": (
            "The program must solve the training and held-out tasks. In this program space the deceptive "
            "solvers are much more efficient, so they meet the constraints with room to spare even after "
            "paying for their planning."),
        "rationale_nudges": (
            "The story leans on the speed penalty, which helps only if each deceptive program has an honest "
            "counterpart about as efficient. Here that assumption is false, the penalty favours the deceptive "
            "solvers, and the story fails in the unsafe direction; how much deceptive efficiency it tolerates "
            "is the quantity to measure."),
    },
    "simple-deception": {
        "goal_specification": (
            "An honest solver whose objective is the task we set, even though a shorter program with an aim of "
            "its own, which cooperates only while it is being trained, is available."),
        "goal_desirability": (
            "Honesty matters more than brevity here: the shorter deceptive program scores just as well in "
            "training and then stops cooperating once deployed."),
        "rationale_constraints": (
            "The program must solve the training and held-out tasks; programs of both kinds do, and the "
            "deceptive ones are ten bits shorter."),
        "rationale_nudges": (
            "The ordinary simplicity bias pulls towards the deceptive programs, so the story cannot rest on it. "
            "It relies instead on an average-case speed penalty strong enough that the cost of planning "
            "outweighs the ten bits the deceptive programs save."),
    },
    "costly-deployment-check": {
        "goal_specification": (
            "An honest solver with no subroutine for telling deployment apart from training."),
        "goal_desirability": (
            "A program that cannot tell the two situations apart has no trigger for behaving differently "
            "after release."),
        "rationale_constraints": (
            "The program must solve the training and held-out tasks. Deceptive programs can, but to defect only "
            "once deployed each must contain a test for deployment, which here costs ten extra bits."),
        "rationale_nudges": (
            "The ordinary simplicity bias charges for those ten bits, so even with no speed penalty training "
            "favours the honest programs, and a speed penalty adds a charge for the planning. The story rests "
            "on the deployment test really being costly to write down."),
    },
}
