#!/usr/bin/env bash
# Installs what blurmap's commands need on a fresh machine, and nothing twice:
# the npm packages (npm ci, never a downloaded browser) and, with --browser,
# Debian's Chromium for the WebGL backend and the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export PUPPETEER_SKIP_DOWNLOAD=1

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

if [ "${1:-}" = "--browser" ] && [ -z "${BLURMAP_CHROMIUM:-}" ] && ! [ -x /usr/bin/chromium ]; then
  echo "setup: installing Debian's chromium (headless WebGL2 through SwiftShader)" >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
