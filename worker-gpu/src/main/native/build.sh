#!/usr/bin/env bash
# Builds libloraflow_native.so against the libtorch of this host's python3 (GPU hosts, the GPU
# image). usage: build.sh OUT_DIR [JAVA_HOME]; prints the library path last.
# CMake first; if CMake cannot configure torch's CUDA packages, the same two compiles by hand.
set -uo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:?usage: build.sh OUT_DIR [JAVA_HOME]}
jhome=${2:-${JAVA_HOME:-}}
[ -n "$jhome" ] && jhome=$(cd "$jhome" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
tlib=$(python3 -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))')
tinc=$(python3 -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"include"))')
abi=$(python3 -c 'import torch;print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
cuda=${CUDA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v nvcc)")")")}
# torch versions without the allocator's endAllocateToPool (graphAbort then skips that tidy-up)
defs=""
grep -q "endAllocateToPool" "$tinc/c10/cuda/CUDACachingAllocator.h" 2>/dev/null ||
  defs="-DLORAFLOW_NO_END_ALLOCATE_TO_POOL"
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0}
if cmake -S "$src" -B "$out/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
     ${defs:+-DCMAKE_CXX_FLAGS="$defs"} ${jhome:+-DJAVA_HOME="$jhome"} >"$out/cmake-configure.log" 2>&1 &&
   cmake --build "$out/cmake" -j"$(nproc)" >"$out/cmake-build.log" 2>&1; then
  cp "$out/cmake/libloraflow_native.so" "$out/libloraflow_native.so"
  echo "native build: cmake ok" >&2
else
  echo "native build: cmake failed (see $out/cmake-*.log), building with nvcc + g++" >&2
  tail -n 20 "$out"/cmake-*.log >&2
  "$cuda/bin/nvcc" -O3 -gencode=arch=compute_90,code=sm_90 -Xptxas=-v -Xcompiler -fPIC \
    -c "$src/nf4_dequant.cu" -o "$out/nf4_dequant.o" >"$out/nvcc.log" 2>&1 || { cat "$out/nvcc.log" >&2; exit 1; }
  "$cuda/bin/nvcc" -O3 -gencode=arch=compute_90,code=sm_90 -Xptxas=-v -Xcompiler -fPIC \
    -c "$src/adamw_fused.cu" -o "$out/adamw_fused.o" >>"$out/nvcc.log" 2>&1 || { cat "$out/nvcc.log" >&2; exit 1; }
  g++ -shared -fPIC -O2 -std=c++17 -D_GLIBCXX_USE_CXX11_ABI="$abi" $defs \
    -I"$tinc" -I"$tinc/torch/csrc/api/include" -I"$cuda/include" \
    -I"$jhome/include" -I"$jhome/include/linux" \
    "$src/loraflow_native.cc" "$out/nf4_dequant.o" "$out/adamw_fused.o" -o "$out/libloraflow_native.so" \
    -L"$tlib" -ltorch -ltorch_cpu -ltorch_cuda -lc10 -lc10_cuda -L"$cuda/lib64" -lcudart \
    -Wl,-rpath,"$tlib" >"$out/gxx.log" 2>&1 || { cat "$out/gxx.log" >&2; exit 1; }
fi
echo "$out/libloraflow_native.so"
