#!/usr/bin/env bash
# Fetch the VisDA-2017 classification data (train = synthetic renders, validation =
# real photographs) into DEST (default: data/visda17), the layout csg.data.VisDA17 reads.
#
# UNTESTED: our machines have no network beyond package registries, so this recipe has
# never been run here. The URLs are the ones the VisDA-2017 organisers publish for the
# classification track; check http://ai.bu.edu/visda-2017/ if they have moved.
# Size: train.tar ~11 GB, validation.tar ~1 GB (152,397 + 55,388 images).
set -euo pipefail

DEST="${1:-$(dirname "$0")/visda17}"
BASE_URL="http://csr.bu.edu/ftp/visda17/clf"
mkdir -p "$DEST"
cd "$DEST"
for part in train validation; do
    if [ -f "$part/image_list.txt" ]; then
        echo "$part/ already present, skipping"
        continue
    fi
    wget -c "$BASE_URL/$part.tar"
    tar -xf "$part.tar"      # creates $part/image_list.txt and $part/<class>/...
    rm -f "$part.tar"
done
echo "VisDA-2017 ready in $(pwd): train/ and validation/"
