#!/usr/bin/env bash
# `make bench`: Go micro-benchmarks of the hot paths, then the load generator
# (strata-bench) against a fresh single agent, a fresh three-agent cluster
# and fresh agents tiering to a local S3 server (versitygw) on this machine,
# then a summary. Agents listen on loopback ports and keep their data in a
# temporary directory; every process this script starts is stopped and the
# directory removed on exit, Ctrl-C included.
#
# Environment:
#   BENCH_MODE           all (default): micro-benchmarks, single agent, cluster, tiering, summary
#                        single: micro-benchmarks and the single agent
#                        cluster: the three-agent cluster only
#                        tiering: the tiered-storage runs only (needs bin/versitygw, make test-deps)
#   BENCH_DURATION       how long each sending scenario runs (default 5s)
#   BENCH_TXN_DURATION   the single agent's txn scenario: four runs of a quarter each (default 20s)
#   BENCH_MICRO=0        skip the Go micro-benchmarks; BENCHTIME sets their -benchtime (1s)
#   BENCH_FLAGS          extra strata-bench flags for every run, e.g. '--partitions 12'
#   BENCH_CLUSTER_FLAGS  extra strata-bench flags for the cluster run, e.g. '--failover-warmup 10s'
#   BENCH_PORT           Kafka port of the single agent and of cluster agent 1 (19092);
#                        agents 2 and 3 use the next two ports
#   BENCH_ETCD_PORT      first of the six embedded etcd ports of the cluster (12379)
#   BENCH_HTTP_PORT      HTTP (/metrics) port of the single agent and of cluster agent 1
#                        (19644); agents 2 and 3 use the next two ports
#   BENCH_TIER_BYTES     record-value bytes the tiering catch-up run produces and replays (1000000000)
#   BENCH_TIER_RECORD_SIZE  record size of the tiering runs (1024)
#   BENCH_TIER_SEGMENT_BYTES  --log-segment-bytes of the tiering agents (8388608)
#   BENCH_TIER_PORT      Kafka port of the tiering agents, one at a time (19192)
#   BENCH_TIER_HTTP_PORT HTTP (/metrics) port of the tiering agents (19744)
#   BENCH_S3_PORT        port of the versitygw S3 server (19900)
#   BENCH_KEEP=1         keep the temporary directory (agent data and logs)
#   STRATA, STRATA_BENCH the binaries (bin/strata, bin/strata-bench; `make build`)
#   VERSITYGW            the S3 server binary (bin/versitygw; `make test-deps`)
#
# e.g. make bench BENCH_DURATION=30s, or BENCH_MODE=cluster bash bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

STRATA=${STRATA:-bin/strata}
STRATA_BENCH=${STRATA_BENCH:-bin/strata-bench}
MODE=${BENCH_MODE:-all}
DURATION=${BENCH_DURATION:-5s}
TXN_DURATION=${BENCH_TXN_DURATION:-20s}
PORT=${BENCH_PORT:-19092}
ETCD_PORT=${BENCH_ETCD_PORT:-12379}
HTTP_PORT=${BENCH_HTTP_PORT:-19644}
TIER_BYTES=${BENCH_TIER_BYTES:-1000000000}
TIER_RECORD_SIZE=${BENCH_TIER_RECORD_SIZE:-1024}
TIER_SEGMENT=${BENCH_TIER_SEGMENT_BYTES:-8388608}
TIER_PORT=${BENCH_TIER_PORT:-19192}
TIER_HTTP_PORT=${BENCH_TIER_HTTP_PORT:-19744}
S3_PORT=${BENCH_S3_PORT:-19900}
VERSITYGW=${VERSITYGW:-bin/versitygw}
read -r -a FLAGS <<<"${BENCH_FLAGS:-}"
read -r -a CLUSTER_FLAGS <<<"${BENCH_CLUSTER_FLAGS:-}"

case $MODE in
all | single | cluster | tiering) ;;
*)
	echo "bench: BENCH_MODE=$MODE: want all, single, cluster or tiering" >&2
	exit 2
	;;
esac
for bin in "$STRATA" "$STRATA_BENCH"; do
	if [ ! -x "$bin" ]; then
		echo "bench: $bin not found; run make build first" >&2
		exit 2
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/strata-bench.XXXXXX")
pids=()   # agents started and not yet stopped
s3_pid="" # the versitygw server, stopped after the agents (they upload on shutdown)
status=0  # set to 1 when a strata-bench run fails; the script goes on

cleanup() {
	stop_agents
	stop_s3
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "bench: kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# alive PID: the process exists and is not a zombie.
alive() {
	local state
	state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[[ $state != Z* ]]
}

# port_open PORT: something accepts connections on 127.0.0.1:PORT.
port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# start_agent NAME ARGS...: starts `strata agent ARGS` in the background with
# its output in $tmp/NAME.log, and records its PID in $pids and $last_pid.
# The agent is disowned: bash still reaps it, but does not report "Killed"
# when the failover scenario kills it.
start_agent() {
	local name=$1
	shift
	"$STRATA" agent --log-level warn "$@" >"$tmp/$name.log" 2>&1 &
	last_pid=$!
	disown "$last_pid"
	pids+=("$last_pid")
}

# wait_listening NAME PID PORT: waits up to 60 s for the agent to accept
# connections; fails at once if it exits.
wait_listening() {
	local name=$1 pid=$2 port=$3
	for _ in $(seq 600); do
		if ! alive "$pid"; then
			echo "bench: $name (pid $pid) exited during startup:" >&2
			tail -n 40 "$tmp/$name.log" >&2
			return 1
		fi
		if port_open "$port"; then
			return 0
		fi
		sleep 0.1
	done
	echo "bench: $name (pid $pid) not listening on 127.0.0.1:$port after 60 s" >&2
	tail -n 40 "$tmp/$name.log" >&2
	return 1
}

# require_free PORT...: fails if any port is already taken.
require_free() {
	local port
	for port in "$@"; do
		if port_open "$port"; then
			echo "bench: 127.0.0.1:$port is in use; set BENCH_PORT / BENCH_ETCD_PORT to free ports" >&2
			return 1
		fi
	done
}

# await_exit SECONDS: waits up to SECONDS for every agent to exit; fails if
# some are still running.
await_exit() {
	local pid left
	for _ in $(seq $(($1 * 10))); do
		left=0
		for pid in "${pids[@]}"; do
			if alive "$pid"; then left=1; fi
		done
		if [ $left = 0 ]; then return 0; fi
		sleep 0.1
	done
	return 1
}

# stop_agents: SIGTERM to every agent, SIGKILL to those still running after
# 15 s, and waits until they are gone.
stop_agents() {
	local pid
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	if ! await_exit 15; then
		for pid in "${pids[@]}"; do
			kill -KILL "$pid" 2>/dev/null || true
		done
		await_exit 5 || echo "bench: agents ${pids[*]} did not exit" >&2
	fi
	pids=()
}

# start_s3: starts versitygw on 127.0.0.1:S3_PORT serving the buckets
# (directories) under $tmp/s3, and waits up to 15 s until its health
# endpoint answers, as tiering/s3test does.
start_s3() {
	mkdir -p "$tmp/s3/$S3_BUCKET_CATCHUP" "$tmp/s3/$S3_BUCKET_PRODUCE"
	"$VERSITYGW" --port "127.0.0.1:$S3_PORT" --access "$S3_ACCESS_KEY" --secret "$S3_SECRET_KEY" \
		--region "$S3_REGION" --health /health --quiet posix "$tmp/s3" >"$tmp/versitygw.log" 2>&1 &
	s3_pid=$!
	disown "$s3_pid"
	for _ in $(seq 150); do
		if ! alive "$s3_pid"; then
			echo "bench: versitygw (pid $s3_pid) exited during startup:" >&2
			tail -n 20 "$tmp/versitygw.log" >&2
			s3_pid=""
			return 1
		fi
		if s3_healthy; then
			return 0
		fi
		sleep 0.1
	done
	echo "bench: versitygw (pid $s3_pid) not healthy on 127.0.0.1:$S3_PORT after 15 s" >&2
	tail -n 20 "$tmp/versitygw.log" >&2
	return 1
}

# s3_healthy: versitygw's health endpoint answers 200 (without curl: its
# port accepts connections).
s3_healthy() {
	if command -v curl >/dev/null; then
		curl -fsS -o /dev/null "http://127.0.0.1:$S3_PORT/health" 2>/dev/null
	else
		port_open "$S3_PORT"
	fi
}

# stop_s3: stops versitygw (SIGTERM, SIGKILL after 5 s).
stop_s3() {
	[ -n "$s3_pid" ] || return 0
	kill -TERM "$s3_pid" 2>/dev/null || true
	for _ in $(seq 50); do
		alive "$s3_pid" || break
		sleep 0.1
	done
	if alive "$s3_pid"; then
		kill -KILL "$s3_pid" 2>/dev/null || true
	fi
	s3_pid=""
}

# bench OUT ARGS...: runs strata-bench, showing its output and saving it in
# $tmp/OUT. A failure is remembered in $status, with the agents' last log
# lines, and does not stop the script; an interrupt does.
bench() {
	local out=$1 rc=0 log
	shift
	"$STRATA_BENCH" "$@" "${FLAGS[@]}" | tee "$tmp/$out" || rc=$?
	stop_if_interrupted $rc
	if [ $rc != 0 ]; then
		status=1
		echo "bench: strata-bench $* failed; last agent log lines:" >&2
		for log in "$tmp"/*.log; do
			echo "-- $(basename "$log")" >&2
			tail -n 20 "$log" >&2
		done
	fi
}

# stop_if_interrupted RC: exits with RC if it says a command died of, or
# stopped for, a signal (128+n): bash does not always run its INT trap when
# the foreground command handles SIGINT itself and exits.
stop_if_interrupted() {
	if [ "$1" -gt 128 ]; then
		exit "$1"
	fi
}

micro() {
	echo "== go micro-benchmarks"
	local rc=0
	go test -run '^$' -bench . -benchmem -benchtime "${BENCHTIME:-1s}" ./protocol/ ./agent/log/ || rc=$?
	stop_if_interrupted $rc
	if [ $rc != 0 ]; then
		status=1
		echo "bench: micro-benchmarks failed" >&2
	fi
}

single() {
	require_free "$PORT" "$HTTP_PORT"
	start_agent single --listen "127.0.0.1:$PORT" --http-addr "127.0.0.1:$HTTP_PORT" --data-dir "$tmp/single"
	local pid=$last_pid
	wait_listening single "$pid" "$PORT"
	echo "== single agent on 127.0.0.1:$PORT (pid $pid): all scenarios, acks=all"
	bench single.out --bootstrap-server "127.0.0.1:$PORT" --broker-pid "$pid" --duration "$DURATION"
	echo "== single agent: produce, acks=1"
	bench single-acks1.out --bootstrap-server "127.0.0.1:$PORT" --broker-pid "$pid" --duration "$DURATION" \
		--scenarios produce --acks 1
	echo "== single agent: idempotent vs transactional produce (commit every 100 ms)"
	bench single-txn.out --bootstrap-server "127.0.0.1:$PORT" --broker-pid "$pid" --duration "$TXN_DURATION" \
		--scenarios txn
	stop_agents
}

# cluster: agents 1-3 on PORT..PORT+2 (HTTP on HTTP_PORT..HTTP_PORT+2), each
# hosting a member of a three-member etcd cluster (client port
# ETCD_PORT+2i-2, peer ETCD_PORT+2i-1), as `make cluster` runs them.
cluster() {
	local i members="" bootstrap="" brokerpids=""
	local ports=("$PORT" $((PORT + 1)) $((PORT + 2)))
	# shellcheck disable=SC2046 # word splitting of seq is intended
	require_free "${ports[@]}" $(seq "$HTTP_PORT" $((HTTP_PORT + 2))) $(seq "$ETCD_PORT" $((ETCD_PORT + 5)))
	for i in 1 2 3; do
		members+="${members:+,}b$i=http://127.0.0.1:$((ETCD_PORT + 2 * i - 1))"
	done
	for i in 1 2 3; do
		start_agent "agent$i" --node-id "$i" --listen "127.0.0.1:${ports[i - 1]}" \
			--http-addr "127.0.0.1:$((HTTP_PORT + i - 1))" --data-dir "$tmp/cluster/$i" \
			--etcd-name "b$i" --etcd-listen-client "127.0.0.1:$((ETCD_PORT + 2 * i - 2))" \
			--etcd-listen-peer "127.0.0.1:$((ETCD_PORT + 2 * i - 1))" --etcd-initial-cluster "$members"
		bootstrap+="${bootstrap:+,}127.0.0.1:${ports[i - 1]}"
		brokerpids+="${brokerpids:+,}$i=$last_pid"
	done
	for i in 1 2 3; do
		wait_listening "agent$i" "${pids[i - 1]}" "${ports[i - 1]}"
	done
	echo "== three-agent cluster on $bootstrap (node=pid $brokerpids): RF=3, acks=all, then failover"
	bench cluster.out --bootstrap-server "$bootstrap" --wait-brokers 3 --connect-timeout 60s \
		--broker-pids "$brokerpids" --duration "$DURATION" --acks all \
		--scenarios loopback,produce,consume,latency,e2e,failover "${CLUSTER_FLAGS[@]}"
	stop_agents
}

# The tiering runs: one S3 server, buckets per run, the topic the catch-up
# run keeps.
S3_ACCESS_KEY=strata-bench
S3_SECRET_KEY=strata-bench-secret
S3_REGION=us-east-1
S3_BUCKET_CATCHUP=strata-bench-catchup
S3_BUCKET_PRODUCE=strata-bench-produce
TIER_TOPIC=bench-tiering
tier_skipped=""

# s3_flags BUCKET: the agent flags that tier to versitygw's BUCKET.
s3_flags() {
	echo --s3-endpoint "127.0.0.1:$S3_PORT" --s3-bucket "$1" --s3-region "$S3_REGION" \
		--s3-access-key "$S3_ACCESS_KEY" --s3-secret-key "$S3_SECRET_KEY" --s3-path-style --s3-tls=false
}

# tier_metrics PORT: one line with the agent's object-tier counters from
# its /metrics (uploads, the remote read cache, object-store requests).
tier_metrics() {
	local body
	if ! body=$(curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null); then
		echo "tier      (no /metrics on 127.0.0.1:$1)"
		return 0
	fi
	echo "$body" | awk '
		/^strata_tier_(uploaded_(bytes|segments)_total|upload_failures_total|upload_pending_bytes|cache_(hits|misses)_total|cache_bytes|store_(requests|errors)_total|store_(read|written)_bytes_total)[{ ]/ {
			name = substr($1, 13); gsub(/"/, "", name); gsub(/op=/, "", name)
			if ($2 + 0 != 0 || name !~ /[{]/) { printf "%s%s=%.0f", sep, name, $2; sep = " " }
		}
		END { print "" }' | sed 's/^/tier      /'
}

# tiering: versitygw on S3_PORT, then one agent at a time on TIER_PORT
# (HTTP on TIER_HTTP_PORT), each with TIER_SEGMENT-byte segments rolled
# after 1 s:
#   1. S3 tiering, local retention 0: produce TIER_BYTES of records to a
#      kept topic, wait until each partition has at most one segment's worth
#      of records on local disk, replay it from offset 0 with a fresh
#      consumer (catchup);
#   2. --remote-storage=false: produce for DURATION;
#   3. S3 tiering, local retention 0: produce for DURATION, then show how
#      much was uploaded and how much still waits.
# The produce topics of 2 and 3 are kept: deleting them is not measured
# anyway, and 3's tier counters are read with its data still there.
tiering() {
	if [ ! -x "$VERSITYGW" ]; then
		echo "== tiering: skipped: $VERSITYGW not found; make test-deps installs it (or set VERSITYGW)"
		tier_skipped=1
		return 0
	fi
	require_free "$TIER_PORT" "$TIER_HTTP_PORT" "$S3_PORT"
	start_s3
	local pid
	local listen=(--listen "127.0.0.1:$TIER_PORT" --http-addr "127.0.0.1:$TIER_HTTP_PORT")
	local segments=(--log-segment-bytes "$TIER_SEGMENT" --log-roll 1s)
	local offload=(--log-local-retention 0s --retention-check-interval 200ms)
	local records=$((TIER_BYTES / TIER_RECORD_SIZE))
	# A segment holds fewer than TIER_SEGMENT / TIER_RECORD_SIZE records
	# (each record carries some bytes of framing besides its value).
	local within=$(((TIER_SEGMENT + TIER_RECORD_SIZE - 1) / TIER_RECORD_SIZE))
	local s3
	read -r -a s3 <<<"$(s3_flags "$S3_BUCKET_CATCHUP")"

	start_agent tier-catchup "${listen[@]}" --data-dir "$tmp/tier-catchup" "${segments[@]}" "${offload[@]}" "${s3[@]}"
	pid=$last_pid
	wait_listening tier-catchup "$pid" "$TIER_PORT"
	echo "== tiering: agent on 127.0.0.1:$TIER_PORT (pid $pid) tiering to versitygw on 127.0.0.1:$S3_PORT (pid $s3_pid)," \
		"$TIER_SEGMENT-byte segments, local retention 0: produce $records records of $TIER_RECORD_SIZE bytes to $TIER_TOPIC," \
		"wait until at most $within records per partition are local, replay from offset 0"
	bench tier-catchup.out --bootstrap-server "127.0.0.1:$TIER_PORT" --broker-pid "$pid" --topic "$TIER_TOPIC" \
		--record-size "$TIER_RECORD_SIZE" --records "$records" --scenarios produce,catchup \
		--wait-offloaded --offloaded-within "$within"
	tier_metrics "$TIER_HTTP_PORT" | tee "$tmp/tier-metrics.out"
	stop_agents

	start_agent tier-off "${listen[@]}" --data-dir "$tmp/tier-off" "${segments[@]}" --remote-storage=false
	pid=$last_pid
	wait_listening tier-off "$pid" "$TIER_PORT"
	echo "== tiering: produce with tiering off (--remote-storage=false), agent pid $pid"
	bench tier-off.out --bootstrap-server "127.0.0.1:$TIER_PORT" --broker-pid "$pid" --duration "$DURATION" \
		--record-size "$TIER_RECORD_SIZE" --scenarios produce --keep
	stop_agents

	read -r -a s3 <<<"$(s3_flags "$S3_BUCKET_PRODUCE")"
	start_agent tier-on "${listen[@]}" --data-dir "$tmp/tier-on" "${segments[@]}" "${offload[@]}" "${s3[@]}"
	pid=$last_pid
	wait_listening tier-on "$pid" "$TIER_PORT"
	echo "== tiering: produce with S3 tiering on, local retention 0, agent pid $pid"
	bench tier-on.out --bootstrap-server "127.0.0.1:$TIER_PORT" --broker-pid "$pid" --duration "$DURATION" \
		--record-size "$TIER_RECORD_SIZE" --scenarios produce --keep
	# The topic is kept (the agent is thrown away), so this shows how far
	# the uploads trail the producer when it stops.
	tier_metrics "$TIER_HTTP_PORT" | tee "$tmp/tier-on-metrics.out"
	stop_agents
	stop_s3
}

# field FILE SCENARIO NAME: the value of NAME=value (or, for MB/s, the number
# before it) on the first line of FILE that starts with SCENARIO; n/a if
# there is none.
field() {
	cat "$1" 2>/dev/null | awk -v s="$2" -v k="$3" '$1 == s && !found {
		for (i = 2; i <= NF; i++) {
			if (k == "MB/s" && $i == "MB/s") { v = $(i - 1); found = 1; break }
			if (index($i, k "=") == 1) { v = substr($i, length(k) + 2); found = 1; break }
		}
	} END { print found ? v : "n/a" }'
}

# hwm FILE...: the peak VmHWM of every process in the files' rss lines.
hwm() {
	cat "$@" 2>/dev/null | awk '$1 == "rss" {
		who = ($2 ~ /^agent=/) ? $2 : $3
		for (i = 2; i <= NF; i++) if (index($i, "VmHWM=") == 1) v = substr($i, 7) + 0
		if (v > max[who]) max[who] = v
	} END { for (w in max) printf "%s %s MiB\n", w, max[w] }' | sort | paste -sd ',' | sed 's/,/, /g'
}

summary() {
	local s="$tmp/single.out" s1="$tmp/single-acks1.out" c="$tmp/cluster.out"
	local all1 acks1 rf3
	echo
	echo "== summary (BENCH_DURATION=$DURATION per scenario; 1 MB = 10^6 bytes of record value)"
	if [ -f "$s" ]; then
		all1=$(field "$s" produce MB/s)
		acks1=$(field "$s1" produce MB/s)
		echo "single agent    produce acks=all $all1 MB/s, acks=1 $acks1 MB/s; consume $(field "$s" consume MB/s) MB/s;" \
			"latency p99=$(field "$s" latency p99); e2e p99=$(field "$s" e2e p99); VmHWM $(hwm "$s" "$s1" "$tmp/single-txn.out")"
		echo "transactions    transactional $(field "$tmp/single-txn.out" txn transactional) / idempotent" \
			"$(field "$tmp/single-txn.out" txn idempotent) = $(field "$tmp/single-txn.out" txn ratio)" \
			"(commit every $(field "$tmp/single-txn.out" txn interval); target >= 0.80)"
	fi
	if [ -f "$c" ]; then
		rf3=$(field "$c" produce MB/s)
		echo "cluster         produce acks=all rf=$(field "$c" produce rf) $rf3 MB/s; consume $(field "$c" consume MB/s) MB/s;" \
			"latency p99=$(field "$c" latency p99) (target <= 10 ms at 2000/s); e2e p99=$(field "$c" e2e p99)"
		if [ "$rf3" != n/a ] && [ "${acks1:-n/a}" != n/a ]; then
			awk -v c="$rf3" -v s="$acks1" 'BEGIN {
				printf "cluster/single  RF=3 acks=all throughput = %.2f of single-agent acks=1 (%s / %s MB/s; target >= 0.50)\n", c / s, c, s }'
		else
			echo "cluster/single  needs both runs (BENCH_MODE=all) to compare RF=3 acks=all with single-agent acks=1"
		fi
		grep '^failover ' "$c" | sed 's/^failover  /failover        /' || echo "failover        did not finish"
		echo "                (target: partition0 <= 5 s, failed=0)"
		echo "cluster VmHWM   $(hwm "$c")"
	fi
	tier_summary
}

tier_summary() {
	local t="$tmp/tier-catchup.out" on="$tmp/tier-on.out" off="$tmp/tier-off.out"
	if [ -n "$tier_skipped" ]; then
		echo "tiering         skipped: $VERSITYGW not found (make test-deps)"
		return 0
	fi
	[ -f "$t" ] || [ -f "$on" ] || return 0
	echo "tiering         cold catch-up from S3 (versitygw): remote=$(field "$t" catchup remote) first=$(field "$t" catchup first)" \
		"$(field "$t" catchup MB/s) MB/s (targets >= 350 MB/s, first record <= 80 ms); its produce $(field "$t" produce MB/s) MB/s"
	awk -v on="$(field "$on" produce MB/s)" -v off="$(field "$off" produce MB/s)" 'BEGIN {
		if (on == "n/a" || off == "n/a" || off + 0 == 0) { printf "tiering         produce tiering on %s MB/s, off %s MB/s: no ratio\n", on, off; exit }
		printf "tiering         produce tiering on %s MB/s / off %s MB/s = %.2f (target >= 0.90: tiering costs <= 10%%)\n", on, off, on / off }'
	echo "tiering         uploads when the tiering-on produce ended: uploaded_bytes_total=$(field "$tmp/tier-on-metrics.out" tier uploaded_bytes_total)" \
		"upload_pending_bytes=$(field "$tmp/tier-on-metrics.out" tier upload_pending_bytes) (a backlog means the uploads do not keep up with that produce rate)"
	echo "tiering VmHWM   catch-up agent $(hwm "$t"); produce agent tiering on $(hwm "$on"), off $(hwm "$off") (target <= 300 MiB with tiering on)"
}

if [[ $MODE == all || $MODE == single ]] && [ "${BENCH_MICRO:-1}" != 0 ]; then
	micro
fi
if [[ $MODE == all || $MODE == single ]]; then
	single
fi
if [[ $MODE == all || $MODE == cluster ]]; then
	cluster
fi
if [[ $MODE == all || $MODE == tiering ]]; then
	tiering
fi
summary
exit $status
