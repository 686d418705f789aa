"""The runner: cells in sandboxes, in parallel, against one fake AWS (issue 4 item 4)."""

from compat.runner.cell import RunContext, run_cell
from compat.runner.pool import resolve_tools, run_cells
from compat.runner.result import CellResult

__all__ = ["CellResult", "RunContext", "resolve_tools", "run_cell", "run_cells"]
