"""Speed Prior Explorer: which program does each prior select, and does the training story hold?

Worlds produce a ProgramTable, priors select, stories assert, views show (see DESIGN.md).
"""

from explorer.errors import ExplorerError
from explorer.table import KINDS, ProgramTable

__version__ = "0.1.0"
__all__ = ["ExplorerError", "KINDS", "ProgramTable", "__version__"]
