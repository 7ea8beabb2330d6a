#!/usr/bin/env bash
# `make bench`: Go micro-benchmarks of the hot paths, then the load generator
# (strata bench) against a fresh single-node agent on this machine.
# Extra flags for strata bench go in $BENCH_FLAGS, e.g.
#   make bench BENCH_FLAGS='--duration 30s --scenarios produce,consume'
set -euo pipefail
cd "$(dirname "$0")/.."
STRATA=${STRATA:-bin/strata}
PORT=${BENCH_PORT:-19092}

echo "== go micro-benchmarks"
go test -run '^$' -bench . -benchmem -benchtime "${BENCHTIME:-1s}" ./protocol/ ./agent/log/

data=$(mktemp -d)
"$STRATA" agent --listen "127.0.0.1:$PORT" --data-dir "$data" --log-level warn &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do
	if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
	sleep 0.1
done

echo "== strata-bench against a fresh agent (pid $pid)"
# shellcheck disable=SC2086
bin/strata-bench --bootstrap-server "127.0.0.1:$PORT" --broker-pid "$pid" ${BENCH_FLAGS:-}
