#!/usr/bin/env bash
# Fetch Cityscapes (Cordts et al., CVPR 2016) fine annotations and left 8-bit images
# into DEST (default: data/cityscapes): leftImg8bit/{train,val,test}/<city>/...,
# gtFine/{train,val,test}/<city>/..., the layout csg.data.Cityscapes reads.
#
# UNTESTED: our machines have no network beyond package registries, so this recipe has
# never been run here. Cityscapes needs a (free) account that accepts its licence
# (non-commercial research use): set CITYSCAPES_USERNAME and CITYSCAPES_PASSWORD.
# Size: leftImg8bit_trainvaltest.zip ~11 GB, gtFine_trainvaltest.zip ~250 MB.
set -euo pipefail

DEST="${1:-$(dirname "$0")/cityscapes}"
: "${CITYSCAPES_USERNAME:?set CITYSCAPES_USERNAME (register at https://www.cityscapes-dataset.com)}"
: "${CITYSCAPES_PASSWORD:?set CITYSCAPES_PASSWORD}"
mkdir -p "$DEST"
cd "$DEST"
COOKIES="$(mktemp)"
trap 'rm -f "$COOKIES"' EXIT
wget --keep-session-cookies --save-cookies="$COOKIES" --post-data \
    "username=${CITYSCAPES_USERNAME}&password=${CITYSCAPES_PASSWORD}&submit=Login" \
    -O /dev/null https://www.cityscapes-dataset.com/login/
# packageID 1 = gtFine_trainvaltest.zip, 3 = leftImg8bit_trainvaltest.zip
for package in 1 3; do
    wget --load-cookies="$COOKIES" --content-disposition -c \
        "https://www.cityscapes-dataset.com/file-handling/?packageID=${package}"
done
unzip -q -n gtFine_trainvaltest.zip
unzip -q -n leftImg8bit_trainvaltest.zip
echo "Cityscapes ready in $(pwd): leftImg8bit/ and gtFine/ (labelIds are mapped to train IDs by csg.data)"
