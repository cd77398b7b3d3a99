#!/usr/bin/env bash
# Runs on the GPU machine (see tools/gpu-pack.sh): collects the carried parts,
# and once all are there unpacks them and runs the browser benchmark headless on
# the NVIDIA GPU through ANGLE's Vulkan backend.
#
#   bash tools/gpu-bench.sh collect N      # in the call that carries .gpu/N
#   bash tools/gpu-bench.sh run OUT QUERY [FLAGS...]
#                                          # in the last call: e.g. "$OUT" "runs=5&fp16=1"
# FLAGS replace the Chromium flags for an NVIDIA GPU (to try the pack on a
# machine without one: --use-angle=swiftshader --enable-unsafe-swiftshader).
set -euo pipefail
store=/tmp/blurmap-gpu
case ${1:-} in
  collect)
    mkdir -p "$store"
    cp ".gpu/$2/part" "$store/part.$(($2 - 1))"
    ls -l "$store"
    ;;
  run)
    out=$2 query=${3:-}
    shift $(($# < 3 ? $# : 3))
    flags=("$@")
    ((${#flags[@]})) || flags=(--use-angle=vulkan --enable-features=Vulkan --disable-vulkan-surface --ignore-gpu-blocklist)
    if [[ ! -d $store/pack ]]; then
      cat "$store"/part.* | xz -d | tar -C "$store" -xf -
    fi
    p=$store/pack
    export LD_LIBRARY_PATH=$p/chromium/lib:/usr/local/nvidia/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    # Where the NVIDIA driver's Vulkan ICD lives on the lent machines; the loader does not look there.
    icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    [[ -f $icd ]] && export VK_DRIVER_FILES=$icd
    python3 "$p/bench-in-browser.py" --chromium "$p/chromium/chromium" --dir "$p/bench" --query "$query" --out "$out/gpu.json" -- "${flags[@]}"
    ;;
  *)
    echo "usage: gpu-bench.sh collect N | run OUT QUERY [FLAGS...]" >&2
    exit 2
    ;;
esac
