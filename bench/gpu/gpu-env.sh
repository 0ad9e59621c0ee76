#!/usr/bin/env bash
# Sourced first by every GPU-call script (from the repository root that travelled, .gpu carried):
# unpacks the xz-packed JRE that stage-gpu.sh ships (once per machine), then runs the shared
# device-setup.sh (JAVA, the DJL JNI for the host's torch). Also unpacks bitsandbytes + gguf for the
# Python references and sets RUST_FLAVOR=cpu (DJL's tokenizer must not try to download a CUDA build).
if [ ! -x .gpu/jre/bin/java ]; then
  tar -xJf .gpu/jre.tar.xz -C .gpu || { echo "gpu-env: cannot unpack .gpu/jre.tar.xz" >&2; return 1; }
fi
export RUST_FLAVOR=${RUST_FLAVOR-cpu}
source .gpu/device-setup.sh || return 1
if [ -f .gpu/site.tar.xz ] && [ ! -d /tmp/site/bitsandbytes ]; then
  mkdir -p /tmp/site && tar -xJf .gpu/site.tar.xz -C /tmp/site --strip-components=1
fi
export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
