#!/usr/bin/env bash
# kefu-server against Rasa Open Source 3.6 serving an equivalent bot (benches/server/rasa/, the
# English side of examples/bots/shop), one after the other in one run on this machine:
#   - cold start to ready (Kefu: GET /readyz 200; Rasa: GET /status 200 with a loaded model),
#     and to the first reply;
#   - the English multi-turn conversation of kefu-loadgen, sent once and checked (form asks for
#     the order number, FAQ answered inside the form, form resumes, confirmation);
#   - max turns/s with p50/p99 (kefu-loadgen `max`, closed loop, English conversations only, as
#     the Rasa bot is English): Rasa with RASA_CONNECTIONS, Kefu with the same count and with
#     KEFU_CONNECTIONS;
#   - RSS (VmRSS summed over the server process and its children) after ready and after load.
# Rasa runs twice: as `rasa run` starts by default (one Sanic worker, in-memory stores), then
# with RASA_WORKERS Sanic workers (default 2, one per core; 0 or 1 to skip), which Rasa only
# allows with a shared lock store: a redis-server started here serves as lock and tracker store.
# Writes benches/server/vs_rasa.json and prints a table. Rasa is a peer: never run in CI.
#
#   benches/server/vs_rasa.sh
#   RASA_VENV=/work/rasa-venv RASA_MODEL=/work/rasa-model/kefu-equivalent.tar.gz \
#     SECONDS_PER_RUN=30 RASA_CONNECTIONS=8 KEFU_CONNECTIONS=32 RASA_WORKERS=2 benches/server/vs_rasa.sh
#
# The model is trained (`rasa train`, a few minutes) when RASA_MODEL does not exist; it and
# Rasa's cache are written outside the repository. Servers listen on 127.0.0.1, free ports,
# and are stopped by PID when the script ends.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
RASA_VENV=${RASA_VENV:-/work/rasa-venv}
RASA_MODEL=${RASA_MODEL:-/work/rasa-model/kefu-equivalent.tar.gz}
RASA_DIR=$ROOT/benches/server/rasa
SECS=${SECONDS_PER_RUN:-30}
RASA_CONN=${RASA_CONNECTIONS:-8}
KEFU_CONN=${KEFU_CONNECTIONS:-32}
KEFU_COLD_RUNS=${KEFU_COLD_RUNS:-5}
OUT=${OUT:-benches/server/vs_rasa.json}
# Rasa's training cache goes next to the model, never into the repository.
export RASA_CACHE_DIRECTORY=${RASA_CACHE_DIRECTORY:-$(dirname "$RASA_MODEL")/.rasa-cache}
export RASA_TELEMETRY_ENABLED=false
export TF_CPP_MIN_LOG_LEVEL=2

[ -x "$RASA_VENV/bin/rasa" ] || { echo "no Rasa in $RASA_VENV (set RASA_VENV)" >&2; exit 2; }
cargo build --release -q -p kefu-server -p kefu-loadgen
SERVER=target/release/kefu-server
LOADGEN=target/release/kefu-loadgen
LOGS=$(mktemp -d)

pids=()
# Stops a server and everything it started: TERM, then KILL after 20 s. By PID only.
stop_tree() {
  local pid=$1 kids
  kids=$(ps -o pid= --ppid "$pid" 2>/dev/null || true)
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  for k in $kids; do kill "$k" 2>/dev/null || true; done
  wait "$pid" 2>/dev/null || true
}
# Drops a PID from the list the exit trap stops.
forget() { local keep=() p; for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done; pids=("${keep[@]}"); }
cleanup() { for p in "${pids[@]}"; do stop_tree "$p"; done; rm -rf "$LOGS"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { echo "$EPOCHREALTIME"; }
# seconds (3 decimals) since a time given by now()
since() { local d=$(( ${EPOCHREALTIME/./} - ${1/./} )); printf '%d.%03d\n' $((d / 1000000)) $((d % 1000000 / 1000)); }
# VmRSS of a process and all its descendants, in MB.
rss_tree_mb() {
  python3 - "$1" <<'PY'
import os, sys
root = int(sys.argv[1]); children = {}
for p in os.listdir("/proc"):
    if p.isdigit():
        try:
            ppid = int(open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        children.setdefault(ppid, []).append(int(p))
total, todo = 0, [root]
while todo:
    pid = todo.pop()
    todo += children.get(pid, [])
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    except OSError:
        pass
print(round(total / 1024, 1))
PY
}
# Sends the loadgen's English conversation once (api, url) and checks the answers; prints JSON.
check_conversation() {
  python3 - "$1" "$2" <<'PY'
import json, re, sys, time, urllib.request
api, url = sys.argv[1:]
turns = ["hello", "I want to return my shoes", "what payment methods do you accept?", "SO123456",
         "they do not fit", "yes"]
expect = [r"(?i)hello|hi", r"(?i)order number", r"(?is)alipay.*order number", r"(?i)reason",
          r"(?is)SO123456.*they do not fit", r"(?i)submitted"]
sender = f"check-{int(time.time() * 1000)}"
out, ok = [], True
for text, pattern in zip(turns, expect):
    if api == "rasa":
        req, body = f"{url}/webhooks/rest/webhook", {"sender": sender, "message": text}
    else:
        req, body = f"{url}/v1/conversations/{sender}/messages", {"text": text}
    t = time.time()
    r = urllib.request.urlopen(urllib.request.Request(req, json.dumps(body).encode(),
                                                      {"content-type": "application/json"}), timeout=60)
    reply = json.load(r)
    ms = round((time.time() - t) * 1000, 2)
    messages = reply if api == "rasa" else reply.get("messages", [])
    said = " / ".join(m.get("text", "") for m in messages)
    good = re.search(pattern, said) is not None
    ok = ok and good
    out.append({"user": text, "bot": said, "ok": good, "ms": ms})
print(json.dumps({"ok": ok, "turns": out}))
PY
}
# Sends "hello" as a new conversation (api, url) and prints the seconds since $3 when it was answered.
first_reply() {
  local api=$1 url=$2 t0=$3
  if [ "$api" = rasa ]; then
    curl -sf -XPOST "$url/webhooks/rest/webhook" -H 'content-type: application/json' \
      -d '{"sender": "first-reply", "message": "hello"}' >/dev/null
  else
    curl -sf -XPOST "$url/v1/conversations/first-reply/messages" -H 'content-type: application/json' \
      -d '{"text": "hello"}' >/dev/null
  fi
  since "$t0"
}
# Waits (up to $2 s) until $1 answers 200; with a third argument, also needs that JSON key set.
wait_ready() {
  local url=$1 limit_us=$(($2 * 1000000)) key=${3:-} t0=${EPOCHREALTIME/./} body
  while :; do
    if body=$(curl -sf "$url" 2>/dev/null); then
      if [ -z "$key" ] || python3 -c "import json,sys; sys.exit(0 if json.loads(sys.argv[1]).get('$key') else 1)" "$body"; then
        return 0
      fi
    fi
    if (( ${EPOCHREALTIME/./} - t0 > limit_us )); then return 1; fi
    sleep 0.005
  done
}

# ------------------------------------------------------------------------------------- Kefu
LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
echo "== kefu-server ($(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates examples/server || echo ', uncommitted changes'))"
# Starts kefu-server; prints "PID PORT SECONDS_TO_READYZ START_TIME".
start_kefu() {
  local port t0 pid; port=$(free_port); t0=$(now)
  KEFU_LOG=warn "$SERVER" --demo --port "$port" --user-rate-per-minute 0 >"$LOGS/kefu.log" 2>&1 &
  pid=$!
  wait_ready "http://127.0.0.1:$port/readyz" 30 || { echo "kefu-server not ready" >&2; cat "$LOGS/kefu.log" >&2; exit 1; }
  echo "$pid $port $(since "$t0") $t0"
}
# the intent model is trained once and cached; the cold starts below read it
read -r pid port ready _ < <(start_kefu); stop_tree "$pid"
kefu_readies=()
for _ in $(seq 1 "$KEFU_COLD_RUNS"); do
  read -r pid port ready _ < <(start_kefu); kefu_readies+=("$ready"); stop_tree "$pid"
done
echo "cold start to /readyz: ${kefu_readies[*]} s"

read -r pid port kefu_ready t0 < <(start_kefu); pids+=("$pid")
kefu_url="http://127.0.0.1:$port"
kefu_first=$(first_reply kefu "$kefu_url" "$t0")
kefu_check=$(check_conversation kefu "$kefu_url")
kefu_rss_ready=$(rss_tree_mb "$pid")
echo "conversation check: $(python3 -c "import json,sys; print(json.loads(sys.argv[1])['ok'])" "$kefu_check")"
kefu_same=$("$LOADGEN" --url "$kefu_url" --lang en max --connections "$RASA_CONN" --seconds "$SECS")
echo "max, $RASA_CONN connections: $kefu_same"
kefu_usual=$("$LOADGEN" --url "$kefu_url" --lang en max --connections "$KEFU_CONN" --seconds "$SECS")
echo "max, $KEFU_CONN connections: $kefu_usual"
kefu_rss_after=$(rss_tree_mb "$pid")
stop_tree "$pid"; pids=()

# ------------------------------------------------------------------------------------- Rasa
rasa_version=$("$RASA_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("rasa"))' 2>/dev/null)
echo "== Rasa $rasa_version ($RASA_VENV)"
rasa_train_s=null
if [ ! -f "$RASA_MODEL" ]; then
  echo "training $RASA_MODEL (a few minutes)"
  mkdir -p "$(dirname "$RASA_MODEL")"
  t0=$(now)
  (cd "$RASA_DIR" && "$RASA_VENV/bin/rasa" train --fixed-model-name "$(basename "$RASA_MODEL" .tar.gz)" \
     --out "$(dirname "$RASA_MODEL")" >"$LOGS/rasa-train.log" 2>&1) || { tail -40 "$LOGS/rasa-train.log" >&2; exit 1; }
  rasa_train_s=$(since "$t0")
  echo "trained in $rasa_train_s s"
fi

# One Rasa configuration: starts it, measures, stops it; appends a JSON object to rasa_rows.
#   run_rasa LABEL WORKERS [ENDPOINTS_FILE]
rasa_rows=()
run_rasa() {
  local label=$1 workers=$2 endpoints=${3:-} port t0 pid url ready first check rss0 rss1 max
  local args=(--credentials credentials.yml)
  [ -n "$endpoints" ] && args+=(--endpoints "$endpoints")
  echo "-- $label"
  port=$(free_port); t0=$(now)
  (cd "$RASA_DIR" && SANIC_WORKERS=$workers exec "$RASA_VENV/bin/rasa" run --enable-api -m "$RASA_MODEL" \
     --port "$port" -i 127.0.0.1 "${args[@]}" >"$LOGS/rasa-$workers.log" 2>&1) &
  pid=$!; pids+=("$pid")
  url="http://127.0.0.1:$port"
  wait_ready "$url/status" 600 model_id || { echo "Rasa not ready" >&2; tail -40 "$LOGS/rasa-$workers.log" >&2; exit 1; }
  # /status is answered by whichever worker has loaded its model: wait for all of them
  for _ in $(seq 1 6000); do
    [ "$(grep -c 'Rasa server is up and running' "$LOGS/rasa-$workers.log")" -ge "$workers" ] && break
    sleep 0.1
  done
  ready=$(since "$t0")
  first=$(first_reply rasa "$url" "$t0")
  check=$(check_conversation rasa "$url")
  rss0=$(rss_tree_mb "$pid")
  echo "cold start to /status: $ready s, to the first reply: $first s"
  echo "conversation check: $(python3 -c "import json,sys; print(json.loads(sys.argv[1])['ok'])" "$check")"
  max=$("$LOADGEN" --url "$url" --api rasa max --connections "$RASA_CONN" --seconds "$SECS")
  echo "max, $RASA_CONN connections: $max"
  rss1=$(rss_tree_mb "$pid")
  stop_tree "$pid"; forget "$pid"
  rasa_rows+=("$(python3 - "$label" "$workers" "$ready" "$first" "$rss0" "$rss1" "$check" "$RASA_CONN" "$max" <<'PY'
import json, sys
label, workers, ready, first, rss0, rss1, check, conns, mx = sys.argv[1:]
print(json.dumps({"label": label, "sanic_workers": int(workers), "ready_s": float(ready), "first_reply_s": float(first),
                  "rss_mb_ready": float(rss0), "rss_mb_after": float(rss1), "conversation": json.loads(check),
                  "max": {"connections": int(conns), "language": "en", **json.loads(mx)}}))
PY
)")
}

# As `rasa run` starts by default: one Sanic worker, in-memory tracker and lock stores.
run_rasa "rasa run (1 worker, in-memory stores)" 1
# Rasa's way to use more cores on one host: several Sanic workers, which need a shared lock
# store (and tracker store): Redis. Each worker loads its own copy of the model.
RASA_WORKERS=${RASA_WORKERS:-2}
if [ "$RASA_WORKERS" -gt 1 ]; then
  if command -v redis-server >/dev/null 2>&1; then
    rport=$(free_port)
    redis-server --bind 127.0.0.1 --port "$rport" --save "" --appendonly no --daemonize no >/dev/null 2>&1 &
    redis_pid=$!; pids+=("$redis_pid")
    for _ in $(seq 1 200); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.02; done
    printf 'tracker_store:\n  type: redis\n  url: 127.0.0.1\n  port: %s\n  db: 0\nlock_store:\n  type: redis\n  url: 127.0.0.1\n  port: %s\n  db: 1\n' \
      "$rport" "$rport" >"$LOGS/endpoints.yml"
    run_rasa "rasa run ($RASA_WORKERS workers, Redis tracker and lock stores)" "$RASA_WORKERS" "$LOGS/endpoints.yml"
    stop_tree "$redis_pid"; forget "$redis_pid"
  else
    echo "(no redis-server: the $RASA_WORKERS-worker Rasa run is skipped)"
  fi
fi

# ------------------------------------------------------------------------------------ report
export OUT SECS RASA_CONN KEFU_CONN RASA_MODEL rasa_version rasa_train_s kefu_ready kefu_first kefu_rss_ready \
  kefu_rss_after kefu_check kefu_same kefu_usual LOAD_START
export KEFU_READIES="${kefu_readies[*]}"
python3 - "${rasa_rows[@]}" <<'PY'
import datetime, json, os, statistics, subprocess, sys
e = os.environ
out = e["OUT"]
kefu_readies = [float(x) for x in e["KEFU_READIES"].split()]
rasa_rows = [json.loads(r) for r in sys.argv[1:]]
def run(conns, result):
    return {"connections": int(conns), "language": "en", **json.loads(result)}
doc = {
    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "cores": os.cpu_count(),
    "load_average_1min": {"start": float(e["LOAD_START"]), "end": os.getloadavg()[0]},
    "seconds_per_run": int(e["SECS"]),
    "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
    "kefu": {
        "command": "kefu-server --demo --user-rate-per-minute 0 (memory store, lexical NLU)",
        "cold_start_s": kefu_readies, "cold_start_median_s": statistics.median(kefu_readies),
        "ready_s": float(e["kefu_ready"]), "first_reply_s": float(e["kefu_first"]),
        "rss_mb_ready": float(e["kefu_rss_ready"]), "rss_mb_after": float(e["kefu_rss_after"]),
        "conversation": json.loads(e["kefu_check"]),
        "max": [run(e["RASA_CONN"], e["kefu_same"]), run(e["KEFU_CONN"], e["kefu_usual"])],
    },
    "rasa": {
        "version": e["rasa_version"],
        "command": "rasa run --enable-api -m <model> -i 127.0.0.1 (REST channel)",
        "model": os.path.basename(e["RASA_MODEL"]),
        "model_mb": round(os.path.getsize(e["RASA_MODEL"]) / 2**20, 1), "train_s": json.loads(e["rasa_train_s"]),
        "runs": rasa_rows,
    },
}
kr = doc["kefu"]
k_same, k_usual = kr["max"]
k_best = max(k_same["turns_per_sec"], k_usual["turns_per_sec"])
r1 = rasa_rows[0]
r_best = max(rasa_rows, key=lambda r: r["max"]["turns_per_sec"])
doc["ratios_kefu_over_rasa"] = {
    "turns_per_sec_same_connections_1_worker": round(k_same["turns_per_sec"] / r1["max"]["turns_per_sec"], 1),
    "turns_per_sec_best_of_each": round(k_best / r_best["max"]["turns_per_sec"], 1),
    "p50_same_connections_1_worker": round(r1["max"]["p50_ms"] / k_same["p50_ms"], 1),
    "ready_1_worker": round(r1["ready_s"] / kr["cold_start_median_s"], 1),
    "rss_ready_1_worker": round(r1["rss_mb_ready"] / kr["rss_mb_ready"], 1),
    "rss_after_1_worker": round(r1["rss_mb_after"] / kr["rss_mb_after"], 1),
}
open(out, "w").write(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
print()
print("| server | ready (s) | first reply (s) | RSS ready / after load (MB) | connections | max turns/s | p50 / p99 (ms) | errors | conversation check |")
print("|---|---|---|---|---|---|---|---|---|")
for i, m in enumerate(kr["max"]):
    head = (f"| kefu-server | {kr['cold_start_median_s']:.3f} | {kr['first_reply_s']:.3f} | {kr['rss_mb_ready']} / {kr['rss_mb_after']} "
            if i == 0 else "| | | | ")
    print(head + f"| {m['connections']} | {m['turns_per_sec']:,.0f} | {m['p50_ms']:.2f} / {m['p99_ms']:.2f} | {m['errors']} "
          f"| {kr['conversation']['ok'] if i == 0 else ''} |")
for r in rasa_rows:
    m = r["max"]
    print(f"| Rasa {doc['rasa']['version']}, {r['sanic_workers']} worker(s) | {r['ready_s']:.1f} | {r['first_reply_s']:.1f} "
          f"| {r['rss_mb_ready']:.0f} / {r['rss_mb_after']:.0f} | {m['connections']} | {m['turns_per_sec']:,.1f} "
          f"| {m['p50_ms']:.0f} / {m['p99_ms']:.0f} | {m['errors']} | {r['conversation']['ok']} |")
q = doc["ratios_kefu_over_rasa"]
print(f"\nKefu / Rasa (1 worker): {q['turns_per_sec_same_connections_1_worker']}x the turns/s at {k_same['connections']} connections, "
      f"{q['p50_same_connections_1_worker']}x lower p50, ready {q['ready_1_worker']}x sooner, "
      f"{q['rss_ready_1_worker']}x less RSS when ready, {q['rss_after_1_worker']}x after the load")
print(f"Kefu / Rasa, best of each: {q['turns_per_sec_best_of_each']}x the turns/s")
print(f"conversations held after the load: Kefu ~{sum(m['turns'] for m in kr['max']) // 6:,}, "
      f"Rasa ~{r1['max']['turns'] // 6:,} (1 worker)")
print(f"load average (1 min): {doc['load_average_1min']['start']} at start, {doc['load_average_1min']['end']:.2f} at end")
print(f"written to {out}")
ok = kr["conversation"]["ok"] and all(r["conversation"]["ok"] for r in rasa_rows)
sys.exit(0 if ok else 1)
PY
