"""One registry of methods: each row of Table 1 declares itself once, where it is defined.

A method is a :class:`~csg.regularizers.Regularizer` subclass decorated with
``@register_method``: its name, the paper's name for it, its default λ (per task), the λ
grid it is tuned on, and its RandAugment magnitude under the paper's protocol. The class
itself declares what the harness must do for it (``Regularizer``: the forwards it needs,
one view or two, the run options it takes, keys per image, its own validation), and the
engine builds it with ``build(backbone, weight, settings, **options)``. So a new method
is one new module (imported by ``csg/__init__.py``) and its decorator::

    @register_method("my_method", "My method", default_weight=1.0)
    class MyMethod(Regularizer):
        def forward(self, features):
            return (features.student[-1] ** 2).mean()
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# λ of every regularised method is chosen the same way: each decade of this grid is run at one
# seed, and the best on held-out *synthetic* images is kept (never a real target).
DECADES = (0.001, 0.01, 0.1, 1.0, 10.0)


@dataclass(frozen=True)
class Method:
    name: str
    display_name: str  # the paper's name (Table 1)
    regularizer: type  # a Regularizer subclass: regularizer.build(backbone, weight, settings, **options)
    default_weight: float | Mapping[str, float] | None  # λ, or {task: λ}; None: no regulariser, no λ
    weight_grid: tuple[float, ...]  # λ candidates; () without a λ
    magnitude: int | None  # RandAugment M under the paper's protocol (None: one plain view)
    frozen_backbone: bool  # only a new head trains (the oracle)

    @property
    def regularized(self) -> bool:
        return self.default_weight is not None

    def weight(self, task: str) -> float:
        """λ when the configuration leaves it unset (0 without a regulariser)."""
        w = self.default_weight
        return 0.0 if w is None else float(w[task] if isinstance(w, Mapping) else w)


class Registry(dict):
    """Entries by name, each declared once (a second declaration is an error); ``lookup`` of an
    unknown name is an error that lists the accepted ones. Methods and datasets use one each."""

    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind

    def add(self, name: str, entry):
        if name in self:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self[name] = entry
        return entry

    def lookup(self, name: str):
        if name not in self:
            raise ValueError(f"unknown {self.kind} {name!r}; accepted: {', '.join(self)}")
        return self[name]


METHODS: Registry = Registry("method")


def register_method(
    name: str,
    display_name: str,
    *,
    default_weight=None,
    weight_grid=DECADES,
    magnitude=None,
    frozen_backbone: bool = False,
):
    """Class decorator: register a Regularizer subclass as the method ``name`` (Table 1's order is import order)."""

    def register(cls: type) -> type:
        if not (hasattr(cls, "build") and hasattr(cls, "options")):
            raise TypeError(f"{cls.__name__} must be a csg.regularizers.Regularizer subclass")
        grid = tuple(weight_grid) if default_weight is not None else ()
        METHODS.add(name, Method(name, display_name, cls, default_weight, grid, magnitude, frozen_backbone))
        return cls

    return register


def get_method(name: str) -> Method:
    return METHODS.lookup(name)
