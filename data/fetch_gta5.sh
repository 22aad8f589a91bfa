#!/usr/bin/env bash
# Fetch GTA5 ("Playing for Data", Richter et al., ECCV 2016) into DEST (default:
# data/gta5): images/NNNNN.png, labels/NNNNN.png, and the authors' train/val/test split
# written as train.txt, val.txt, test.txt (one 5-digit frame number per line), the
# layout csg.data.GTA5 reads.
#
# UNTESTED: our machines have no network beyond package registries, so this recipe has
# never been run here. URLs from https://download.visinf.tu-darmstadt.de/data/from_games/
# Size: ~57 GB of zips (24,966 frames). Licence: research and educational use only.
# The split file split.mat is expected inside the authors' read_mapping.zip; if its
# name or keys differ, the python step below says so and the frames are still usable
# with build_dataset("gta5", "all").
set -euo pipefail

DEST="${1:-$(dirname "$0")/gta5}"
BASE_URL="https://download.visinf.tu-darmstadt.de/data/from_games"
mkdir -p "$DEST/zips"
cd "$DEST"
for i in 01 02 03 04 05 06 07 08 09 10; do
    for kind in images labels; do
        wget -c -P zips "$BASE_URL/data/${i}_${kind}.zip"
        unzip -q -n "zips/${i}_${kind}.zip"    # adds to images/ and labels/
    done
done
wget -c -P zips "$BASE_URL/code/read_mapping.zip"
unzip -q -n zips/read_mapping.zip -d zips/read_mapping

python3 - <<'PY'
"""Write train.txt/val.txt/test.txt from the authors' split.mat (1-based frame numbers)."""
import pathlib
import sys

from scipy.io import loadmat

found = sorted(pathlib.Path("zips/read_mapping").rglob("split.mat"))
if not found:
    sys.exit("split.mat not found in read_mapping.zip; use build_dataset('gta5', 'all')")
split = loadmat(found[0])
for name in ("train", "val", "test"):
    keys = [k for k in split if k.lower().startswith(name)]
    if not keys:
        sys.exit(f"no '{name}*' entry in {found[0]} (keys: {sorted(split)})")
    ids = sorted(int(v) for v in split[keys[0]].ravel())
    pathlib.Path(f"{name}.txt").write_text("".join(f"{i:05d}\n" for i in ids))
    print(f"{name}.txt: {len(ids)} frames")
PY
echo "GTA5 ready in $(pwd) (zips/ can be deleted)"
