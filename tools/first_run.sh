#!/usr/bin/env bash
# What a newcomer waits for: a fresh clone of the committed HEAD, empty pip/uv/npm caches, then `time make TARGET`.
#   tools/first_run.sh demo      # or: test, install, install-runtime
# The clone, its caches and its local stack live in a temporary folder that is removed afterwards.
set -euo pipefail
target="${1:-demo}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /tmp/promote-first-run.XXXXXX)"
cleanup() {
  if [ -f "$work/clone/.promote/azurite.pid" ]; then (cd "$work/clone" && .venv/bin/promote dev down >/dev/null 2>&1 || true); fi
  rm -rf "$work"
}
trap cleanup EXIT
git clone --quiet "$repo" "$work/clone"
export PIP_NO_CACHE_DIR=1 UV_CACHE_DIR="$work/uv-cache" npm_config_cache="$work/npm-cache"
# the clone's local stack on free ports, so it neither meets nor disturbs one already running on 10000-10002
PROMOTE_DEV_PORTS="$(python3 -c 'import socket; s=[socket.socket() for _ in range(3)]; [x.bind(("127.0.0.1", 0)) for x in s]; print(",".join(str(x.getsockname()[1]) for x in s))')"
export PROMOTE_DEV_PORTS
cd "$work/clone"
echo "fresh clone of $(git rev-parse --short HEAD) in $work/clone; empty caches; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
TIMEFORMAT="make $target: %R s wall, %U s user, %S s sys"
time make "$target"
