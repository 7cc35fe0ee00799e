"""The neural world: real PyTorch networks, trained under the essay's practical speed priors.

Training is the search. Each proposal trains networks on a task whose examples carry a difficulty
(tasks.py), measures per example whether they were right and how much compute they used (measure.py),
and turns every trained network into a row of a ProgramTable (to_table.py), so the priors, views and
stories of the other worlds apply to them unchanged.

- growing.py: Proposal 1, MLPs grown until good, with the compute of every retraining counted;
- pondering.py: Proposal 2A, K rollouts of a step network with a scratchpad, K raised until good;
- halting.py: Proposal 2B, learned halting as in PonderNet, with the KL(p || p_G) penalty beta;
- rollout_predictor.py: Proposal 2B's alternative, an offline predictor of the steps each input needs;
- early_exit.py: Proposal 3, a head on every layer, late exits penalised by alpha (and alpha annealed);
- misbehaviour.py: a planted drive of strength mu, misbehaviour that costs computation;
- parallel_drive.py: the drive's cost counted as serial steps and as total work, over widths (caveat 2);
- allotment.py: the steps a drive obtains when the network picks its exit, and under the predictor (caveat 3);
- ensemble.py: E networks as one batched program, so a penalty sweep is one training run;
- sweep.py: which hyperparameter values each network of a batched run gets;
- training.py: shared settings, the loss log and its divergence check;
- bench.py: the benchmark `python -m explorer bench neural` runs (the command line is explorer/cli/neural.py);
- world.py: NeuralWorld, the world's parameters (proposal, task, bits, penalties, ...) and the checked
  run (Job) they ask for; its `table()` trains that run, for a Simulation. It imports torch only
  when it trains, so `import explorer.worlds` stays light;
- session.py: one run on a worker thread for the app (stop, live curve, result).

Nothing here imports a UI library.
"""
