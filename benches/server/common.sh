# Shared by the benches/server scripts (sourced): free ports, starting kefu-server and waiting
# for /readyz, stopping it by PID, RSS. Needs SERVER set to the kefu-server binary.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Starts "$SERVER ARGS --port P" quietly, waits (up to 60 s) for /readyz, prints
# "PID PORT SECONDS_TO_READY".
start_server() {
  local port; port=$(free_port)
  local t0; t0=$(date +%s.%N)
  KEFU_LOG=warn "$SERVER" "$@" --port "$port" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 1 12000); do
    if curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; then break; fi
    sleep 0.005
  done
  local t1; t1=$(date +%s.%N)
  echo "$pid $port $(python3 -c "print(round($t1-$t0,3))")"
}

stop_server() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

rss_mb() { awk '/VmRSS/{printf "%.1f", $2/1024}' "/proc/$1/status"; }
