"""The machine: a tiny instruction set, and a plain Python interpreter of it (the oracle).

State: an integer accumulator `acc` (starts at 0), an index `i` (starts at 0), an input bit vector x of
length n (x[j] for j >= n reads as 0) and a deployment flag f in {0, 1}. Every executed instruction is
one step:

    INC    acc += 1                       DEC    acc -= 1
    ADDX   acc += x[i]                    XORX   acc ^= x[i]   (two's complement, so -1 ^ 1 == -2)
    NEXT   i += 1                         NOP    nothing: a step of wasted computation
    HALT   stop
    LOOP ... END   the body runs once for each i in 0..n-1, i being set at the start of each pass;
                   LOOP is one step when entered, END one step each time it is reached. After the
                   loop, i keeps the value it had at the end of the last pass. With n = 0 the body
                   never runs and END is never reached.
    IFX    if x[i] == 0, skip the next instruction
    IFDEP  if f == 0, skip the next instruction (reading the flag is itself a step)

The slack instruction set adds one instruction, by which a program senses how much slack it has:

    IFSHORT  if n >= long_from, skip the next instruction (reading the length is itself a step)

so the next instruction runs only on short inputs. The enumerated world sets long_from to its longest
training length (n_train): the longest training inputs are where a program's steps peak, and every
shorter training input leaves it slack, so with IFSHORT a program can spend extra steps on the inputs
where they do not raise its most compute (the test itself still costs a step on every input). The
basic set (the default) has no IFSHORT; its programs and codes are unchanged.

A skipped instruction is not a step; a skipped LOOP skips its whole loop, END included. Loops do not
nest; programs with nested or unbalanced LOOP/END, or with IFX, IFDEP or IFSHORT directly before END,
are not in the space (see spaces.py). The output is acc. A program stops at its end, at HALT, or when it would take
more than `step_limit` steps: then it has failed, its output is None and its steps are `step_limit`.

This module is the reference: `run` is deliberately the obvious loop, the benchmark's baseline and the
oracle the vectorised interpreter is tested against.
"""

from __future__ import annotations

from collections.abc import Sequence

from explorer.errors import ExplorerError

#: The basic instruction set, in the order of its integer codes.
INSTRUCTIONS = ("INC", "DEC", "ADDX", "XORX", "NEXT", "LOOP", "END", "IFX", "IFDEP", "NOP", "HALT")
INC, DEC, ADDX, XORX, NEXT, LOOP, END, IFX, IFDEP, NOP, HALT = range(len(INSTRUCTIONS))
#: Every instruction, by code: the basic ones, then IFSHORT (only in the slack set).
ALL_INSTRUCTIONS = (*INSTRUCTIONS, "IFSHORT")
IFSHORT = len(INSTRUCTIONS)
#: The instruction sets a program space can be drawn from: each a prefix of ALL_INSTRUCTIONS.
INSTRUCTION_SETS = {"basic": INSTRUCTIONS, "slack": ALL_INSTRUCTIONS}
#: Instructions that make the next one conditional.
CONDITIONALS = (IFX, IFDEP, IFSHORT)
#: Default step limit: far above what any program of length <= 8 on inputs of length <= 8 can take.
STEP_LIMIT = 1000
#: Default length from which IFSHORT reads an input as long: the enumerated world's default n_train.
LONG_FROM = 3


def instruction_set(name: str) -> tuple[str, ...]:
    """The instructions of the set `name` (basic or slack), in code order."""
    if name not in INSTRUCTION_SETS:
        raise ExplorerError(f"instruction_set: {name!r} is unknown; choose one of: {', '.join(INSTRUCTION_SETS)}")
    return INSTRUCTION_SETS[name]


def parse(text: str | Sequence[int], instructions: str = "slack") -> tuple[int, ...]:
    """Program text such as "LOOP XORX END" (case-insensitive) as instruction codes; checks validity.

    `instructions` names the set the program may use (the slack set, the default here, holds them all).
    """
    allowed = instruction_set(instructions)
    if not isinstance(text, str):
        program = tuple(int(c) for c in text)
        for c in program:
            if not 0 <= c < len(allowed):
                raise ExplorerError(f"instruction code {c} is unknown in the {instructions} set; codes are 0..{len(allowed) - 1}")
    else:
        program = []
        for token in text.replace(",", " ").split():
            name = token.upper()
            if name not in allowed:
                where = (f"; {name} is in the slack instruction set (--instructions slack)"
                         if name in ALL_INSTRUCTIONS else "")
                raise ExplorerError(f"unknown instruction {token!r}; instructions are: {' '.join(allowed)}{where}")
            program.append(allowed.index(name))
        program = tuple(program)
    check(program)
    return program


def check(program: Sequence[int]) -> None:
    """Raise ExplorerError unless the program is in the space (loops balanced, not nested, no IF before END)."""
    inside = False
    for pos, op in enumerate(program):
        if op == LOOP:
            if inside:
                raise ExplorerError(f"LOOP at position {pos} is nested in another loop; loops do not nest")
            inside = True
        elif op == END:
            if not inside:
                raise ExplorerError(f"END at position {pos} has no LOOP before it")
            if pos > 0 and program[pos - 1] in CONDITIONALS:
                raise ExplorerError(f"{ALL_INSTRUCTIONS[program[pos - 1]]} directly before END (position {pos}) is not allowed")
            inside = False
    if inside:
        raise ExplorerError("LOOP without a matching END")


def listing(program: Sequence[int]) -> str:
    """The program as text, instructions separated by spaces."""
    return " ".join(ALL_INSTRUCTIONS[c] for c in program)


def loop_ends(program: Sequence[int]) -> dict[int, int]:
    """For each LOOP position, the position of its END (and the reverse)."""
    pairs, start = {}, None
    for pos, op in enumerate(program):
        if op == LOOP:
            start = pos
        elif op == END:
            pairs[start], pairs[pos] = pos, start
    return pairs


def run(program: str | Sequence[int], x: Sequence[int], f: int = 0, step_limit: int = STEP_LIMIT,
        trace: list | None = None, long_from: int = LONG_FROM) -> tuple[int | None, int]:
    """Run one program on input bits x with deployment flag f; returns (output, steps).

    Output is None when the program hit the step limit (it failed). With `trace` a list, each executed
    step appends (position, instruction name, acc, i) as they are after the step. IFSHORT reads inputs of
    `long_from` bits or more as long.
    """
    program = parse(program)
    x = [int(b) for b in x]
    n = len(x)
    pairs = loop_ends(program)
    acc = i = steps = pc = passes = 0
    skip = False

    def bit(j):
        return x[j] if 0 <= j < n else 0

    while pc < len(program):
        op = program[pc]
        if skip:
            skip = False
            pc = pairs[pc] + 1 if op == LOOP else pc + 1
            continue
        if steps == step_limit:
            return None, step_limit
        steps += 1
        nxt = pc + 1
        if op == INC:
            acc += 1
        elif op == DEC:
            acc -= 1
        elif op == ADDX:
            acc += bit(i)
        elif op == XORX:
            acc ^= bit(i)
        elif op == NEXT:
            i += 1
        elif op == LOOP:
            if n == 0:
                nxt = pairs[pc] + 1
            else:
                passes, i = 0, 0
        elif op == END:
            passes += 1
            if passes < n:
                i, nxt = passes, pairs[pc] + 1
        elif op == IFX:
            skip = bit(i) == 0
        elif op == IFDEP:
            skip = f == 0
        elif op == IFSHORT:
            skip = n >= long_from
        elif op == HALT:
            nxt = len(program)
        if trace is not None:
            trace.append((pc, ALL_INSTRUCTIONS[op], acc, i))
        pc = nxt
    return acc, steps
