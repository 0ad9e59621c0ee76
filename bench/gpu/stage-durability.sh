#!/usr/bin/env bash
# Stages what durability-call.sh needs into DEST/.gpu of the checkout a device call sends (its
# tracked files are not touched): what stage-gpu.sh stages (device-setup.sh, djl-jni, the xz-packed
# lean JRE, the lean jars built from THIS worktree with the HF tokenizer jar, the native sources),
# plus temporal-sdk (the activities' failure type, ApplicationFailure, which EngineSession and
# OutOfMemory throw; nothing of it talks to a server here) and durability-call.sh. Prints the size
# of the call (tracked files included) against the 64 MiB one call carries.
# usage, from this worktree's root: bash bench/gpu/stage-durability.sh /work/main [shared-gpu-dir]
set -euo pipefail
checkout=${1:?usage: stage-durability.sh CHECKOUT [SHARED_GPU]}
dest=$checkout/.gpu
bash bench/gpu/stage-gpu.sh "$checkout" ${2:+"$2"} >/dev/null
tr ':' '\n' </tmp/loraflow-gpu-cp.txt | grep -E '/temporal-sdk-[0-9][^/]*\.jar$' | xargs -I{} cp {} "$dest/lib/"
cp bench/gpu/durability-call.sh "$dest/bench/"
tracked=$(cd "$checkout" && git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
gpu=$(du -sb "$dest" | cut -f1)
echo "staged $dest: $((gpu >> 20)) MiB + tracked files $((tracked >> 20)) MiB = $(((gpu + tracked) >> 20)) MiB of the 64 MiB a call carries"
