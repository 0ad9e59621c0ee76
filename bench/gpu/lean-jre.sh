#!/usr/bin/env bash
# Builds (once per machine and module list) an xz-packed jlink'ed JRE for a GPU host without Java:
# the modules given, debug info and man pages stripped, libjvm stripped, the JDK's JNI headers inside
# (device-setup.sh rebuilds DJL's JNI against them when the host's torch needs it). Prints the path
# of jre.tar.xz. usage: lean-jre.sh CACHE_NAME MODULES   (e.g. gpu-jre java.base,java.logging)
set -euo pipefail
name=${1:?usage: lean-jre.sh CACHE_NAME MODULES}
modules=${2:?usage: lean-jre.sh CACHE_NAME MODULES}
cache=${LORAFLOW_CACHE:-$HOME/.cache/loraflow}/$name
if [ ! -f "$cache/jre.tar.xz" ]; then
  mkdir -p "$cache" && rm -rf "$cache/jre"
  jdk=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
  "$jdk/bin/jlink" --add-modules "$modules" \
    --strip-debug --no-man-pages --no-header-files --compress=2 --output "$cache/jre" >&2
  cp -r "$jdk/include" "$cache/jre/include"
  strip --strip-unneeded "$cache/jre/lib/server/libjvm.so" >&2 || true
  tar -C "$cache" -I "xz -T0 -6" -cf "$cache/jre.tar.xz.tmp" jre && mv "$cache/jre.tar.xz.tmp" "$cache/jre.tar.xz"
fi
echo "$cache/jre.tar.xz"
