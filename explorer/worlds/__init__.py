"""Worlds: each builds a ProgramTable from its own parameters."""
