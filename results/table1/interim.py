"""Table 1's comparisons recorded so far under the design (official recipe, evaluation seeds 0-5),
paired by seed: the closing note of session 10 quotes them. Interim: chapter 04 and the
scorecard take over (with Holm's correction) once every Table 1 row is recorded; then this
file goes.

    PYTHONPATH=. python results/table1/interim.py
"""

import glob
import json

from csg import stats

TARGETS = ("mnistm", "mnist")


def scores(method: str, **settings) -> dict[int, dict[str, float]]:
    """Per evaluation seed, final accuracy (%) per split of the design's runs of ``method``."""
    out = {}
    for path in glob.glob(f"results/digits-{method}-efficientnet_lite0-seed*.json"):
        record = json.load(open(path))
        cfg = record["config"]
        designed = "prior" in cfg and cfg.get("recipe", "official") == "official"  # written since the design
        if not designed or cfg["seed"] >= 100 or cfg["train_split"] != "train" or "final" not in record:
            continue
        if all(cfg.get(k) == v for k, v in settings.items()):
            out[cfg["seed"]] = {split: s["score"] * 100 for split, s in record["final"].items()}
    return out


def compare(label: str, setting: dict, reference: dict) -> None:
    for t in TARGETS:
        d = stats.paired_difference({k: v[t] for k, v in setting.items()}, {k: v[t] for k, v in reference.items()})
        print(f"{label}, {t}: {d.format(signed=True, digits=2)} (n {d.n}, p {d.p_value:.3f}, MDE {d.detectable():.2f})")


baseline, augmented = scores("vanilla", magnitude="auto"), scores("vanilla", magnitude=6)
csg = scores("csg", weight=0.001)
compare("CSG (λ = 1e-3) − baseline", csg, baseline)
compare("oracle (lr 0.01) − baseline", scores("oracle"), baseline)
compare("baseline with RandAugment (M = 6) − baseline", augmented, baseline)
compare("CSG − baseline with RandAugment", csg, augmented)
