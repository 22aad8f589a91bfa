"""The optimiser and learning-rate schedule of a run: torch's SGD with a linear warm-up (the book's
recipe so far), or the official code's SGD and schedule (NVlabs/CSG ``utils/sgd.py`` and
``utils/utils.py``), which differ from torch's whenever the learning rate changes."""

from __future__ import annotations

import torch


class OfficialSGD(torch.optim.Optimizer):
    """SGD with the learning rate inside the momentum buffer, as the official code steps:
    ``buf = momentum * buf + lr * (grad + weight_decay * p); p -= buf``. torch's SGD keeps the
    rate outside (``buf = momentum * buf + grad + wd * p; p -= lr * buf``): the same steps
    while the rate is constant, larger ones after it drops (during warm-up, up to 1.6x)."""

    def __init__(self, params, lr: float, momentum: float = 0.9, weight_decay: float = 0.0):
        if not (lr > 0 and 0 <= momentum < 1 and weight_decay >= 0):
            raise ValueError(
                f"need lr > 0, momentum in [0, 1), weight_decay >= 0; got {lr}, {momentum}, {weight_decay}"
            )
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None if closure is None else closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                update = group["lr"] * (p.grad + group["weight_decay"] * p)
                state = self.state[p]
                if "momentum_buffer" in state:
                    update = state["momentum_buffer"].mul_(group["momentum"]).add_(update)
                state["momentum_buffer"] = update
                p.sub_(update)
        return loss


def lr_factor(it: int, total: int, warmup: int, recipe: str = "book") -> float:
    """The schedule at step ``it`` of ``total``, as a factor of the base learning rate.

    "book": a linear warm-up over ``warmup`` steps, then poly decay (power 0.9) over the rest.
    "official": a quadratic ramp from 0.01 over ``warmup`` steps, times poly decay over the
    whole run: ``min(0.01 + 0.99 (it / warmup)^2, 1) * (1 - it / total)^0.9``.
    """
    if recipe == "official":
        ramp = min(0.01 + 0.99 * (it / warmup) ** 2, 1.0) if warmup > 0 else 1.0
        return ramp * (1 - it / max(1, total)) ** 0.9
    if it < warmup:
        return (it + 1) / warmup
    return (1 - (it - warmup) / max(1, total - warmup)) ** 0.9
