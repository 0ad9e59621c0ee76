#!/usr/bin/env bash
# Puts what the model benches need on the GPU host into .gpu/lib (about 10 MB; no pytorch-native-cpu, no tokenizers (HF dirs need none):
# the host's own libtorch is used through .gpu/device-setup.sh). Run from the project root after
#   mvn -q -o -pl worker-gpu -am test-compile
# then carry .gpu (with the jre from ../shared/gpu/make-jre.sh) and worker-gpu/target, and on the host:
#   source .gpu/device-setup.sh
#   $JAVA -cp ".gpu/lib/*:worker-gpu/target/classes:worker-gpu/target/test-classes" io.loraflow.engine.model.bench.LogitsBench ...
set -euo pipefail
m2=${M2_REPO:-$HOME/.m2/repository}
mkdir -p .gpu/lib
for jar in \
  ai/djl/api/0.36.0/api-0.36.0.jar \
  ai/djl/pytorch/pytorch-engine/0.36.0/pytorch-engine-0.36.0.jar \
  ai/djl/pytorch/pytorch-jni/2.7.1-0.36.0/pytorch-jni-2.7.1-0.36.0.jar \
  com/google/code/gson/gson/2.13.1/gson-2.13.1.jar \
  net/java/dev/jna/jna/5.17.0/jna-5.17.0.jar \
  org/apache/commons/commons-compress/1.27.1/commons-compress-1.27.1.jar \
  org/slf4j/slf4j-api/2.0.17/slf4j-api-2.0.17.jar \
  com/fasterxml/jackson/core/jackson-core/2.21.0/jackson-core-2.21.0.jar \
  com/fasterxml/jackson/core/jackson-databind/2.21.0/jackson-databind-2.21.0.jar \
  com/fasterxml/jackson/core/jackson-annotations/2.21/jackson-annotations-2.21.jar; do
  cp "$m2/$jar" .gpu/lib/
done
du -sh .gpu/lib
