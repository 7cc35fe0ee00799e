"""The enumerated world: every program of a tiny instruction set, run and measured.

machine.py fixes the instruction sets (basic, and slack: basic with IFSHORT, by which a program senses its
slack) and runs one program in plain Python (the oracle); spaces.py lists
every valid program; interpreter.py runs them all at once on an array back end; tasks.py holds the
inputs and what counts as correct; world.py measures kinds and compute into a ProgramTable (EnumeratedWorld, a measured World: a
Simulation keeps its tables in the disk cache, explorer.table_cache);
report.py gives a run and an enumeration as plain data (the CLI, explorer/cli/programs.py, prints them);
bench.py is the benchmark `python -m explorer bench programs` runs.
"""
