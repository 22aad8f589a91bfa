"""csg: Contrastive Syn-to-Real Generalization (Chen, Yu et al., ICLR 2021) as a library.

Modules, one paper concept each:
    backbones     -- backbones cut into the paper's four layer groups; the frozen copy f_e,o
    pooling       -- global average pooling and A-pool (Sec. 3.4)
    losses        -- InfoNCE (Eq. 3)
    contrastive   -- CSG itself: heads h / EMA heads h~, queues, multi-layer and dense (Eqs. 2-6)
    regularizers  -- the interface CSG and every baseline share (Eq. 4)
    registry      -- every method's name, display name, default λ and λ grid, declared once
    baselines     -- the other rows of Table 1, one module each
    metrics       -- mean per-class accuracy, mIoU, hyperspherical energy (Eq. 1)
    augment       -- RandAugment views
    data          -- VisDA-17, GTA5, Cityscapes and the offline synthetic-to-real benchmark
"""

__version__ = "0.1.0"

# Every method registers itself on import (csg.registry), in Table 1's order.
from . import baselines, contrastive  # noqa: E402, F401
