#!/usr/bin/env bash
# From finished checkpoints to shipped weights, the parity fixture and the
# validation scores. Run from the repository root:
#   bash tools/train/ship.sh dbm|purohit
# Writes weights/*.safetensors (fp16), test/fixtures/shipped-maps.safetensors
# (both models' maps, whichever are shipped) and data/val/scores-*.json.
# DBM_CHECKPOINT picks the DBM checkpoint (default runs/dbm/best.pt).
set -euo pipefail
py=/usr/bin/python3
dbm=${DBM_CHECKPOINT:-runs/dbm/best.pt}
[ -d data/val ] || $py tools/train/render_val.py data/val
node tools/build.js > /dev/null
score() { # name maps-dir
  node dist/cli.js eval --images data/val/images --masks data/val/masks --maps "$2" --svg "data/val/pr-$1.svg" --json | tee "data/val/scores-$1.json"
}
case "$1" in
  dbm)
    $py tools/train/export.py "$dbm" runs/dbm/export.safetensors
    npm run -s convert-weights -- --model dbm --in runs/dbm/export.safetensors --out weights/dbm.safetensors --force | tail -1
    $py tools/train/predict.py --dbm "$dbm" data/val/images data/val/maps-dbm
    score dbm data/val/maps-dbm
    ;;
  purohit)
    for m in patch unet; do $py tools/train/export.py runs/$m/best.pt runs/$m/export.safetensors; done
    npm run -s convert-weights -- --model purohit-patch --in runs/patch/export.safetensors --out weights/purohit-patch.safetensors --force | tail -1
    npm run -s convert-weights -- --model purohit-unet --in runs/unet/export.safetensors --out weights/purohit-unet.safetensors --force | tail -1
    for only in patch unet fusion; do
      $py tools/train/predict.py --patch runs/patch/best.pt --unet runs/unet/best.pt --only $only data/val/images data/val/maps-$only
      score $only data/val/maps-$only
    done
    ;;
  *) echo "usage: ship.sh dbm|purohit" >&2; exit 2 ;;
esac
# The parity fixture covers every shipped model.
args=()
[ -f weights/dbm.safetensors ] && args+=(--dbm "$dbm")
[ -f weights/purohit-unet.safetensors ] && args+=(--patch runs/patch/best.pt --unet runs/unet/best.pt)
$py tools/train/shipped_fixture.py "${args[@]}"
