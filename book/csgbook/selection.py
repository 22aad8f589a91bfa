"""The book's one rule for choosing a hyper-parameter, on synthetic images only.

Each regularised method's λ (the oracle: its learning rate) is chosen on a grid: every
candidate trained at the selection seeds and scored by its mean accuracy (or mIoU) on the
held-out *synthetic* split over them; while the best candidate sits at an edge of the grid,
the grid grows by a decade past that edge (at most :data:`MAX_EXTENSIONS` times), so that
the chosen value is bracketed. Selection seeds are never evaluation seeds, and no real
image is looked at.

Nothing here trains: :func:`select` reads records through ``fetch(**params)`` (None: not
recorded) and names the runs it still needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from csg.registry import DECADES, METHODS

REGULARIZED = tuple(name for name, method in METHODS.items() if method.regularized)
SELECTION_SEEDS = (100, 101)
MAX_EXTENSIONS = 2
ORACLE_LRS = (1e-3, 1e-2, 1e-1, 1.0)  # the oracle must converge on synthetic data, not at the baseline's lr


def tuned(method: str) -> tuple[str, tuple[float, ...]] | None:
    """The run parameter ``method`` is tuned on and its starting grid (None: nothing to tune)."""
    if method in REGULARIZED:
        return "weight", DECADES
    if method == "oracle":
        return "lr", ORACLE_LRS
    return None


def selection_score(rec: dict) -> float:
    """A run's score on the held-out synthetic split, the only one anything is chosen on (-inf: diverged)."""
    return rec["final"]["synthetic_val"]["score"] if "final" in rec else float("-inf")


@dataclass
class Selection:
    """Where one method's selection stands."""

    parameter: str  # the run parameter chosen: "weight" (λ) or "lr"
    chosen: float | None  # None while candidates are missing
    means: dict[float, float] = field(default_factory=dict)  # candidate -> mean synthetic score
    records: dict[tuple[float, int], dict] = field(default_factory=dict)  # (candidate, seed) -> record
    missing: list[dict] = field(default_factory=list)  # parameters of the runs still to train

    @property
    def at_edge(self) -> bool:
        """Whether the chosen value is still an edge of the grid after every extension."""
        return self.chosen is not None and self.chosen in (min(self.means), max(self.means))


def select(
    method: str, fetch: Callable[..., dict | None], weight_grid=None, seeds=SELECTION_SEEDS, **params
) -> Selection:
    """``method``'s value chosen by the rule above, a λ starting from ``weight_grid`` (None, or an lr:
    the method's own grid, :func:`tuned`); ``params``: the rest of every candidate's run parameters."""
    parameter, grid = tuned(method)
    grid = sorted(grid if weight_grid is None or parameter != "weight" else weight_grid)
    out = Selection(parameter, None)
    for _ in range(MAX_EXTENSIONS + 1):
        for value in grid:
            if value in out.means:
                continue
            candidate = params | {"method": method, parameter: value}
            found = {s: fetch(**candidate, seed=s) for s in seeds}
            out.missing += [candidate | {"seed": s} for s, rec in found.items() if rec is None]
            if None not in found.values():
                out.records |= {(value, s): rec for s, rec in found.items()}
                out.means[value] = float(np.mean([selection_score(r) for r in found.values()]))
        if out.missing:
            return out
        best = max(grid, key=out.means.get)
        if best == grid[0]:
            grid = [grid[0] / 10, *grid]
        elif best == grid[-1]:
            grid = [*grid, grid[-1] * 10]
        else:
            break
    out.chosen = best  # still at an edge after the last extension: kept, and shown as such
    return out
