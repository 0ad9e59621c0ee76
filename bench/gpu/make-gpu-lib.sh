#!/usr/bin/env bash
# Fills .gpu/lib with the lean jars a GPU bench needs (see ../shared/gpu/README.md):
# DJL api + pytorch-engine (no pytorch-native-cpu: the host's libtorch is used), the
# HF tokenizers jar stripped to its linux-x86_64 native, their small dependencies, and the
# project's engine classes (main + test, test resources left out) as one jar.
# Run from the repository root after `mvn -q -o -pl worker-gpu -am test-compile`.
set -euo pipefail
lib=.gpu/lib
m2=${MAVEN_REPO:-$HOME/.m2/repository}
rm -rf "$lib" && mkdir -p "$lib"
mvn -q -o -pl worker-gpu -am test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/loraflow-gpu-cp.txt \
  -Dmdep.includeScope=runtime >/dev/null
tr ':' '\n' </tmp/loraflow-gpu-cp.txt |
  grep -E '/(api|pytorch-engine|gson|jna|slf4j-api|commons-compress|argparse4j|jackson-(core|databind|annotations))-[0-9][^/]*\.jar$' |
  xargs -I{} cp {} "$lib/"
tok=$(tr ':' '\n' </tmp/loraflow-gpu-cp.txt | grep '/tokenizers-[0-9][^/]*\.jar$')
cp "$tok" "$lib/tokenizers.jar"
zip -q -d "$lib/tokenizers.jar" 'native/lib/linux-aarch64/*' 'native/lib/osx-*' 'native/lib/win-*' >/dev/null
stage=$(mktemp -d)
for d in workflows/target/classes activities/target/classes worker-gpu/target/classes; do cp -r "$d"/. "$stage"/; done
# test classes hold the bench mains; their resources (fixtures) stay home
(cd worker-gpu/target/test-classes && find . -name '*.class' -exec cp --parents {} "$stage" \;)
(cd "$stage" && zip -q -r "$OLDPWD/$lib/loraflow-engine.jar" .)
rm -rf "$stage"
du -sh "$lib" .gpu
