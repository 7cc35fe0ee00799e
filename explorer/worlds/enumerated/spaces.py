"""The program space: every valid program up to a length, and its description length.

A program of length k is k instruction codes; shorter programs are padded with PAD. Valid means the
machine's rules (machine.py): loops balanced and not nested, no IFX, IFDEP or IFSHORT directly before
END. A space is drawn from one instruction set (machine.INSTRUCTION_SETS): basic (the default) or
slack (basic and IFSHORT).
Rows are ordered by length, then lexicographically by code, so results never depend on the back end.

Description length: every instruction is chosen from the same alphabet, so

    bits(p) = len(p) * log2(size of the instruction set)

(a fixed-length code per instruction; the length itself is not charged, as all programs of one length
cost the same and a prefix code would only add a constant per length).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from explorer.errors import ExplorerError
from explorer.worlds.enumerated.machine import CONDITIONALS, END, INSTRUCTIONS, LOOP, instruction_set, listing

#: Code of "no instruction" in the padded program matrix.
PAD = -1
#: Longest programs the enumeration accepts (11**9 candidates would not fit in memory).
MAX_LENGTH = 8
#: Bits per instruction of the basic set (the slack set's is log2 of its own size).
BITS_PER_INSTRUCTION = math.log2(len(INSTRUCTIONS))


@dataclass(frozen=True)
class ProgramSpace:
    """Every valid program up to `max_length` over one instruction set: codes (P, max_length) int8 padded
    with PAD, and lengths."""

    max_length: int
    codes: np.ndarray
    lengths: np.ndarray
    instructions: str = "basic"

    def __len__(self) -> int:
        return int(self.lengths.shape[0])

    @property
    def bits_per_instruction(self) -> float:
        return math.log2(len(instruction_set(self.instructions)))

    @property
    def bits(self) -> np.ndarray:
        return self.lengths * self.bits_per_instruction

    def program(self, row: int) -> tuple[int, ...]:
        return tuple(int(c) for c in self.codes[row, : self.lengths[row]])

    def listing(self, row: int) -> str:
        return listing(self.program(row))


def valid_mask(codes: np.ndarray) -> np.ndarray:
    """Which rows of a (P, k) code matrix (no padding) are valid programs."""
    inside = np.zeros(codes.shape[0], dtype=bool)
    ok = np.ones(codes.shape[0], dtype=bool)
    for pos in range(codes.shape[1]):
        op = codes[:, pos]
        is_loop, is_end = op == LOOP, op == END
        ok &= ~(is_loop & inside) & ~(is_end & ~inside)
        if pos > 0:
            ok &= ~(is_end & np.isin(codes[:, pos - 1], CONDITIONALS))
        inside = (inside | is_loop) & ~is_end
    return ok & ~inside


def all_of_length(k: int, instructions: str = "basic") -> np.ndarray:
    """Every valid program of exactly length k over the set `instructions`, lexicographic, as an int8 (P, k) matrix."""
    size = len(instruction_set(instructions))
    grid = np.indices((size,) * k, dtype=np.int8).reshape(k, -1).T if k else np.zeros((1, 0), np.int8)
    return grid[valid_mask(grid)]


def enumerate_programs(max_length: int, instructions: str = "basic") -> ProgramSpace:
    """Every valid program of length 1..max_length over the instruction set `instructions`."""
    if not 1 <= int(max_length) <= MAX_LENGTH:
        raise ExplorerError(f"max_length: {max_length} is not allowed; choose 1..{MAX_LENGTH}")
    instruction_set(instructions)  # an unknown set is an error naming the parameter
    max_length = int(max_length)
    blocks, lengths = [], []
    for k in range(1, max_length + 1):
        block = all_of_length(k, instructions)
        padded = np.full((block.shape[0], max_length), PAD, dtype=np.int8)
        padded[:, :k] = block
        blocks.append(padded)
        lengths.append(np.full(block.shape[0], k, dtype=np.int64))
    return ProgramSpace(max_length, np.concatenate(blocks), np.concatenate(lengths), instructions)
