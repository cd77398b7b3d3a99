#!/usr/bin/env bash
# Packs what the browser benchmark needs on a GPU machine that has Python but no
# Node, no Chromium and no network (the lent H100/H200, see docs/benchmarks.md):
# this machine's Chromium with the shared libraries it loads, the built bench
# folder (dist/bench) and tools/bench-in-browser.py, as one xz tarball cut into
# parts small enough to travel one per device call (a call's working tree is at
# most 64 MiB).
#
#   bash tools/gpu-pack.sh [PART_MIB]      # default 50; writes .gpu/1, .gpu/2, ...
#
# Then, on the device, each part is carried in turn into a machine kept warm,
# and the last call unpacks and runs (bench/README.md, "On a GPU machine without
# Chromium", has the calls).
set -euo pipefail
cd "$(dirname "$0")/.."
part_mib=${1:-50}
chromium_dir=/usr/lib/chromium
[[ -x $chromium_dir/chromium ]] || { echo "gpu-pack: no Chromium in $chromium_dir (apt-get install chromium)" >&2; exit 1; }
node tools/build.js >/dev/null  # the pack must hold this checkout's bench page

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/pack/chromium/lib" "$stage/pack/chromium/locales"
# The browser, without the Vulkan validation layer and mock driver (debugging
# aids, 23 MiB) and with one locale.
for f in "$chromium_dir"/*; do
  case $(basename "$f") in
    libVkLayer_* | libVkICD_mock_* | locales | extensions) ;;
    *) cp -L "$f" "$stage/pack/chromium/" ;;
  esac
done
cp "$chromium_dir/locales/en-US.pak" "$stage/pack/chromium/locales/"
# Every library the binary and its GL/Vulkan libraries load, except glibc's and
# the C/C++ runtime's: the target has those, newer (a newer one serves old
# programs; an older one first on LD_LIBRARY_PATH could break the GPU driver).
for bin in "$chromium_dir/chromium" "$chromium_dir"/lib*.so "$chromium_dir/chrome_crashpad_handler"; do
  { ldd "$bin" 2>/dev/null || true; } | awk '$3 ~ /^\// { print $3 }'
done | sort -u | grep -v -E '/(libc|libm|libdl|libpthread|librt|libresolv|libstdc\+\+|libgcc_s|ld-linux[^/]*)\.so' |
  while read -r lib; do cp -L "$lib" "$stage/pack/chromium/lib/"; done
cp -r dist/bench "$stage/pack/bench"
cp tools/bench-in-browser.py "$stage/pack/"

rm -rf .gpu
mkdir -p .gpu
tar -C "$stage" -cf - pack | xz -T0 -6 | split -b "${part_mib}M" -d -a 1 - "$stage/part."
n=0
for p in "$stage"/part.*; do
  n=$((n + 1))
  mkdir -p ".gpu/$n"
  mv "$p" ".gpu/$n/part"
done
echo "gpu-pack: $(du -sh .gpu | cut -f1) in $n parts: .gpu/1 .. .gpu/$n"
