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
# the JRE travels xz-packed (35 MB -> 19 MB of the 64 MiB a call carries); gpu-env.sh unpacks it.
# Built once per machine in ~/.cache/loraflow/gpu-jre.
jre=$(bash bench/gpu/lean-jre.sh gpu-jre \
  java.base,java.logging,jdk.unsupported,java.management,java.xml,java.sql,java.net.http,java.naming,jdk.crypto.ec,jdk.zipfs)
rm -rf "$dest/jre" && cp "$jre" "$dest/jre.tar.xz"
bash bench/gpu/make-gpu-lib.sh >/dev/null
rm -rf "$dest/lib" && cp -r .gpu/lib "$dest/lib"  # with the tokenizers jar (real models)
rm -rf "$dest/native" "$dest/bench" && mkdir -p "$dest/native" "$dest/bench"
cp worker-gpu/src/main/native/* "$dest/native/"
cp bench/gpu/gpu-env.sh bench/gpu/fastpath-bench.sh bench/gpu/fastpath-call.sh bench/gpu/smollm2-faq.sh \
  bench/gpu/trace_summary.py bench/train/qlora_speed.py bench/train/seed_faq.py "$dest/bench/"
cp activities/src/main/resources/datasets/ecommerce-faq.json "$dest/bench/"
du -sh "$dest"
