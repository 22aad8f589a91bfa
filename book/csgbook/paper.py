"""The paper's reported numbers (Chen, Yu et al., ICLR 2021), to print beside ours.

These are the paper's figures, copied as facts from its tables; nothing here is a
result of this repository.
"""

from csg.registry import METHODS

# Sec. 2 / Fig. 2: HSE (s = 0) of ResNet-101 features on VisDA-17 validation images.
MOTIVATING_HSE = {"imagenet": 0.2541, "real": 0.3355, "synthetic": 0.4408}

# Table 1's setting (Sec. 4.1): the backbone and the training crop; its schedule is csg.scaling.PAPER_SCALE.
TABLE1_SETUP = "ResNet-101 at 224 px"

# Table 1: VisDA-17, ResNet-101; accuracy = mean per-class accuracy (%), HSE s = 0, 1, 2.
TABLE1 = {
    "oracle": {"acc": 53.3},
    "vanilla": {"s0": 0.4245, "s1": 1.2500, "s2": 1.6028, "acc": 49.3},
    "weight_l2": {"s0": 0.4014, "s1": 1.2296, "s2": 1.5302, "acc": 56.4},
    "si": {"s0": 0.3958, "s1": 1.2261, "s2": 1.5216, "acc": 57.6},
    "feature_l2": {"s0": 0.3337, "s1": 1.1910, "s2": 1.4449, "acc": 57.1},
    "asg": {"s0": 0.3251, "s1": 1.1840, "s2": 1.4229, "acc": 61.1},
    "csg": {"s0": 0.3188, "s1": 1.1806, "s2": 1.4177, "acc": 64.05},
}
# The paper's names of Table 1's rows, as each method registers itself (csg.registry).
METHOD_NAMES = {name: method.display_name for name, method in METHODS.items()}

# Table 2: RandAugment magnitude M -> accuracy (%).
TABLE2 = {0: 60.86, 3: 61.36, 6: 62.88, 12: 62.61, 18: 62.00}
# Table 3: stage groups G -> accuracy (%).
TABLE3 = {(4,): 62.88, (3, 4): 63.77, (2, 3, 4): 62.66, (1, 2, 3, 4): 62.30}
# Table 4: pooling -> accuracy (%).
TABLE4 = {"gap": 63.77, "a_pool": 64.05}
POOLING_NAMES = {"gap": "GAP", "a_pool": "A-pool"}


def rows(table: dict, label=str, column: str = "paper (VisDA-17)") -> dict[str, dict[str, float]]:
    """One of the paper's tables as rows to print beside ours: ``{label(key): {column: value}}``."""
    return {label(key): {column: value} for key, value in table.items()}


def magnitude_label(m: int) -> str:
    """A row of Table 2 as the paper names it: "M = 6", "M = 0 (no aug.)"."""
    return f"M = {m}" + (" (no aug.)" if m == 0 else "")


def groups_label(groups) -> str:
    """A row of Table 3 as a set of layer groups: "G = {3, 4}"."""
    return "G = {" + ", ".join(map(str, groups)) + "}"


# Table 5: GTA5 -> Cityscapes mIoU (%), (no adaptation, with the method).
TABLE5 = {
    ("resnet50", "IBN-Net"): (22.17, 29.64),
    ("resnet50", "Yue et al."): (32.45, 37.42),
    ("resnet50", "ASG"): (25.88, 29.65),
    ("resnet50", "CSG"): (25.88, 35.27),
    ("resnet101", "Yue et al."): (33.56, 42.53),
    ("resnet101", "ASG"): (29.63, 32.79),
    ("resnet101", "CSG"): (29.63, 38.88),
}
