#!/usr/bin/env bash
# Rebuilds only the project's engine jar (workflows/activities/worker-gpu classes + worker-gpu
# test classes, no test resources) into the GPU bundle of another checkout, leaving its other
# jars as they are (make-gpu-lib.sh builds the whole .gpu/lib).
# usage, from this repository's root: bash bench/gpu/make-engine-jar.sh /work/main/.gpu/lib
set -euo pipefail
lib=${1:-.gpu/lib}
mvn -q -o -pl worker-gpu -am test-compile -DskipTests >/dev/null
stage=$(mktemp -d)
for d in workflows/target/classes activities/target/classes worker-gpu/target/classes; do cp -r "$d"/. "$stage"/; done
(cd worker-gpu/target/test-classes && find . -name '*.class' -exec cp --parents {} "$stage" \;)
rm -f "$lib/loraflow-engine.jar"
(cd "$stage" && zip -q -r "$lib/loraflow-engine.jar" .)
rm -rf "$stage"
ls -la "$lib/loraflow-engine.jar"
