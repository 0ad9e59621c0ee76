#!/usr/bin/env python3
"""Summarizes a torch-profiler chrome trace written by QloraBench --profile.

Prints the top-level aten ops (those not nested in another aten op on the same thread) by
count and total CPU time, the GPU kernels by total time, and the input dtypes/shapes of every
matmul-like op (so an fp32 matmul in an fp16 model shows up).
usage: trace_summary.py trace.json [top]
"""
import collections
import json
import sys

path = sys.argv[1]
top = int(sys.argv[2]) if len(sys.argv) > 2 else 40
with open(path) as f:
    data = json.load(f)
events = data["traceEvents"] if isinstance(data, dict) else data
# DJL's JniUtils.startProfile uses the legacy autograd profiler: no "cat", pid "CPU Functions"
cpu = [e for e in events if e.get("ph") == "X" and (e.get("cat") in ("cpu_op", "Operator")
       or (e.get("cat") is None and e.get("pid") == "CPU Functions"))]
kernels = [e for e in events if e.get("ph") == "X" and (e.get("cat") in ("kernel", "gpu_memcpy", "gpu_memset", "Kernel", "Memcpy", "Memset")
           or (e.get("cat") is None and e.get("pid") not in (None, "CPU Functions")))]
runtime = [e for e in events if e.get("ph") == "X" and e.get("cat") in ("cuda_runtime", "Runtime", "cuda_driver")]

# top-level ops per thread: not contained in another op
cpu.sort(key=lambda e: (e["tid"], e["ts"], -e["dur"]))
top_level = []
stack = {}
for e in cpu:
    st = stack.setdefault(e["tid"], [])
    while st and st[-1]["ts"] + st[-1]["dur"] <= e["ts"]:
        st.pop()
    if not st:
        top_level.append(e)
    st.append(e)

def table(title, rows, n):
    print(f"== {title}")
    for name, (cnt, us) in sorted(rows.items(), key=lambda kv: -kv[1][1])[:n]:
        print(f"{us/1000:10.2f} ms {cnt:7d}  {name}")

agg = collections.defaultdict(lambda: [0, 0.0])
for e in top_level:
    agg[e["name"]][0] += 1
    agg[e["name"]][1] += e["dur"]
span = (max(e["ts"] + e["dur"] for e in cpu) - min(e["ts"] for e in cpu)) if cpu else 0
print(f"top-level ops: {len(top_level)}, all ops: {len(cpu)}, cpu span {span/1000:.1f} ms, "
      f"top-level cpu time {sum(e['dur'] for e in top_level)/1000:.1f} ms")
table("top-level ops by CPU time", agg, top)

if kernels:
    kagg = collections.defaultdict(lambda: [0, 0.0])
    for e in kernels:
        kagg[e["name"][:110]][0] += 1
        kagg[e["name"][:110]][1] += e["dur"]
    print(f"kernels: {len(kernels)}, total GPU time {sum(e['dur'] for e in kernels)/1000:.1f} ms")
    table("GPU kernels by time", kagg, top)
if runtime:
    ragg = collections.defaultdict(lambda: [0, 0.0])
    for e in runtime:
        ragg[e["name"]][0] += 1
        ragg[e["name"]][1] += e["dur"]
    table("CUDA runtime calls", ragg, 15)

mm = collections.Counter()
for e in cpu:
    if e["name"] in ("aten::mm", "aten::addmm", "aten::bmm", "aten::linear", "aten::matmul", "aten::baddbmm"):
        a = e.get("args", {})
        mm[(e["name"], str(a.get("Input type")), str(a.get("Input Dims", e.get("shape"))))] += 1
print("== matmul-like ops: count, name, input types, dims")
for (n, t, d), c in mm.most_common(60):
    print(f"{c:5d} {n} {t} {d}")
print("== dtype conversions (aten::_to_copy / aten::to): count, dims")
conv = collections.Counter(str(e.get("shape")) for e in cpu if e["name"] == "aten::_to_copy")
for d, c in conv.most_common(30):
    print(f"{c:5d} {d}")
pids = collections.Counter((e.get("pid"), e.get("cat")) for e in events if e.get("ph") == "X")
print("== event groups", dict(pids))
