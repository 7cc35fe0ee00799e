"""Speed Prior Explorer: which program does each prior select, and does the training story hold?

Three worlds (explorer.worlds.WORLDS: abstract, enumerated, neural) produce a ProgramTable; five priors
(explorer.priors.PRIOR_WEIGHTS) select; scenarios and story evidence assert, through one check grammar
(explorer.checks); views (explorer.ui) show; the command line (explorer.cli) sits on top.
"""

from explorer.errors import ExplorerError
from explorer.table import KINDS, ProgramTable

__version__ = "0.1.0"
__all__ = ["ExplorerError", "KINDS", "ProgramTable", "__version__"]
