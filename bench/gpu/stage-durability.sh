#!/usr/bin/env bash
# Stages what durability-call.sh needs into DEST/.gpu of the checkout a device call sends (its
# tracked files are not touched): what stage-gpu.sh stages (device-setup.sh, djl-jni, the xz-packed
# lean JRE, the lean jars built from THIS worktree with the HF tokenizer jar, the native sources),
# plus temporal-sdk and guava's base package (the activities' failure type, ApplicationFailure,
# which EngineSession and OutOfMemory throw; nothing of it talks to a server here) and
# durability-call.sh. Prints the size
# of the call (tracked files included) against the 64 MiB one call carries.
# usage, from this worktree's root: bash bench/gpu/stage-durability.sh /work/main [shared-gpu-dir]
set -euo pipefail
checkout=${1:?usage: stage-durability.sh CHECKOUT [SHARED_GPU]}
dest=$(cd "$checkout" && pwd)/.gpu
bash bench/gpu/stage-gpu.sh "$checkout" ${2:+"$2"} >/dev/null
jar_of() { tr ':' '\n' </tmp/loraflow-gpu-cp.txt | grep -E "/$1-[0-9][^/]*\.jar$" | head -1; }
cp "$(jar_of temporal-sdk)" "$dest/lib/"
# ApplicationFailure's message formatting uses guava's com.google.common.base (Strings); the rest of
# guava (3 MB) is not needed
tmp=$(mktemp -d)
(cd "$tmp" && unzip -q "$(jar_of guava)" 'com/google/common/base/*' && zip -q -r "$dest/lib/guava-base.jar" com)
rm -rf "$tmp"
cp bench/gpu/durability-call.sh bench/gpu/graphs-call.sh "$dest/bench/"
tracked=$(cd "$checkout" && git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
gpu=$(du -sb "$dest" | cut -f1)
echo "staged $dest: $((gpu >> 20)) MiB + tracked files $((tracked >> 20)) MiB = $(((gpu + tracked) >> 20)) MiB of the 64 MiB a call carries"
