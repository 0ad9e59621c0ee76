#!/usr/bin/env bash
# Stages what fastpath-call.sh needs into DEST/.gpu of the checkout a device call sends (the
# session's checkout, e.g. /work/main, whose tracked files must not be touched): the shared GPU
# recipe (../shared/gpu), a lean JRE (java.base + the few modules DJL and Jackson need, libjvm
# stripped), the jars built from THIS worktree (no tokenizers), the native sources and the bench
# scripts. usage, from this worktree's root: bash bench/gpu/stage-gpu.sh /work/main [shared-gpu-dir]
set -euo pipefail
dest=${1:?usage: stage-gpu.sh CHECKOUT [SHARED_GPU]}/.gpu
shared=${2:-$(cd .. && pwd)/shared/gpu}
[ -d "$shared" ] || shared=/work/shared/gpu
mkdir -p "$dest"
cp -r "$shared"/device-setup.sh "$shared"/djl-jni "$shared"/site.tar.xz "$dest"/
chmod -R u+w "$dest/djl-jni"
if [ ! -x "$dest/jre/bin/java" ]; then
  jdk=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
  "$jdk/bin/jlink" --add-modules java.base,java.logging,jdk.unsupported,java.management,java.xml,java.sql \
    --strip-debug --no-man-pages --no-header-files --compress=2 --output "$dest/jre"
  cp -r "$jdk/include" "$dest/jre/include"
  strip --strip-unneeded "$dest/jre/lib/server/libjvm.so" || true
fi
bash bench/gpu/make-gpu-lib.sh >/dev/null
rm -rf "$dest/lib" && cp -r .gpu/lib "$dest/lib" && rm -f "$dest/lib/tokenizers.jar"
rm -rf "$dest/native" "$dest/bench" && mkdir -p "$dest/native" "$dest/bench"
cp worker-gpu/src/main/native/* "$dest/native/"
cp bench/gpu/fastpath-bench.sh bench/gpu/fastpath-call.sh bench/gpu/trace_summary.py bench/train/qlora_speed.py "$dest/bench/"
du -sh "$dest"
