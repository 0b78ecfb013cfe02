#!/bin/sh
# Load (issue 8, part 5), outside CI: while feedmuxd polls N feeds served
# by nginx on 127.0.0.1, CLIENTS concurrent clients poll /feed.atom (wrk,
# over a TCP listener on 127.0.0.1) and SUBSCRIBERS /events subscribers
# listen (bench_sse -c, over the Unix socket), each counting the events it
# gets by id.
#
#   bench/load.sh [BUILD_DIR] [SECONDS] [FEEDS] [SUBSCRIBERS] [CLIENTS]
#
# Defaults: build, 60 s, 10000 feeds, 10000 subscribers, 1000 clients.
# CHANGES (default 10) feeds gain a new story each second during the first
# half of the run, so there are events to deliver.
#
# 1. A cold poll of every feed (feedmuxd --once, empty database): timed.
# 2. feedmuxd started on that database with every feed due at once
#    (start_spread = 0, interval 20 s, no politeness delays: one host),
#    the subscribers connected after the store's last change, wrk started.
# 3. Printed: wrk's requests/s, latency and errors (any non-2xx/3xx or
#    socket error is a failure); every subscriber's events compared with
#    the store's change sequence (items.seq after the first id): missed,
#    duplicated, unknown must be 0; feedmuxd's RSS every 5 s and its peak
#    (VmHWM); how long the first full poll under load took.
#
# Descriptors: the script raises its soft limit to the hard one and needs
# SUBSCRIBERS + CLIENTS + 1,000 (feedmuxd fits its max_connections under
# it; bench_sse and wrk hold one per connection).
# Needs: scripts/setup --bench (nginx, wrk, time), sqlite3.
set -eu
. "$(dirname "$0")/feeds-nginx.sh"
build=$(cd "${1:-build}" && pwd)
secs=${2:-60}
n=${3:-10000}
subs=${4:-10000}
clients=${5:-1000}
changes=${CHANGES:-10}
need=$((subs + clients + 1000))
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
	echo "bench/load.sh: needs $need descriptors; the hard limit is $(ulimit -Hn)" >&2
	exit 2
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/feedmux-load-XXXXXX")
chmod 755 "$work" # nginx's workers run as www-data
nginx_pid= feedmuxd_pid= sse_pid= sampler_pid= changer_pid=
cleanup() {
	for p in $changer_pid $sampler_pid $sse_pid $feedmuxd_pid $nginx_pid; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	[ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT INT TERM

port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
nport=$(port)
fport=$(port)
echo "== bench/load.sh: $n feeds on 127.0.0.1:$nport, $clients clients, $subs subscribers, ${secs} s" \
	"($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); ulimit -n $(ulimit -n); $(date -u +%FT%TZ))"
mkdir -p "$work/www/f"
gen_feeds "$work/www/f" "$n"
start_nginx "$work" "$nport"

# The cold poll's config plans every next poll a second ahead, so the
# daemon started after it finds every feed due at once.
conf() {
	cat <<EOF
[feedmux]
database = $work/feedmux.db
listen = $work/feedmux.sock 127.0.0.1:$fport
interval = $1
min_interval = 1s
start_spread = 0
host_connections = 16
max_transfers = 16
host_delay = 0
log_level = info
EOF
	for i in $(seq "$n"); do
		printf '[feed "f%05d"]\nurl = http://127.0.0.1:%s/f/%05d.xml\n' "$i" "$nport" "$i"
	done
}
conf 1s >"$work/once.conf"
conf 20s >"$work/feedmux.conf"
/usr/bin/time -f "%e %M" -o "$work/once.time" "$build/feedmuxd" -c "$work/once.conf" --once 2>"$work/once.log"
read -r wall rss <"$work/once.time"
first=$(sqlite3 "$work/feedmux.db" 'SELECT coalesce(max(seq), 0) FROM items')
echo "cold poll (--once, no load): $wall s, peak RSS $((rss / 1024)) MB;" \
	"$(sqlite3 "$work/feedmux.db" 'SELECT count(*) FROM items') items, last change $first"

sleep 1
"$build/feedmuxd" -c "$work/feedmux.conf" 2>"$work/feedmuxd.log" &
feedmuxd_pid=$!
t0=$(date +%s)
for _ in $(seq 100); do
	[ -S "$work/feedmux.sock" ] && curl -s -o /dev/null --unix-socket "$work/feedmux.sock" http://localhost/status && break
	sleep 0.1
done
"$build/bench/bench_sse" -c "$first" "$work/expected" "$work/feedmux.sock" "$subs" >"$work/sse.out" &
sse_pid=$!
until grep -q '^subscribed' "$work/sse.out" 2>/dev/null; do sleep 0.2; done
cat "$work/sse.out"

# Every 5 s: feedmuxd's RSS and peak, and how many fetches it has done.
polls() { grep -c -E ': feed f[0-9]+: (not modified|[0-9]+ items)' "$work/feedmuxd.log" || true; }
# how many feeds have been fetched at least once
polled() { grep -o -E ': feed f[0-9]+: (not modified|[0-9]+ items)' "$work/feedmuxd.log" | cut -d' ' -f3 | sort -u | wc -l; }
status() { sed -n "s/^$1:[[:space:]]*//p" "/proc/$feedmuxd_pid/status"; }
(
	while kill -0 "$feedmuxd_pid" 2>/dev/null; do
		feeds=$(polled)
		printf '  t=%3ss  RSS %s  peak %s  fetches %s, of %s feeds\n' "$(($(date +%s) - t0))" \
			"$(status VmRSS)" "$(status VmHWM)" "$(polls)" "$feeds"
		[ "$feeds" -ge "$n" ] && [ ! -e "$work/first-poll" ] && echo $(($(date +%s) - t0)) >"$work/first-poll"
		sleep 5
	done
) &
sampler_pid=$!
# New stories during the first half of the run.
(
	k=0
	end=$(($(date +%s) + secs / 2))
	while [ "$(date +%s)" -lt "$end" ]; do
		for _ in $(seq "$changes"); do
			k=$((k + 1))
			f=$(($(od -An -tu4 -N4 /dev/urandom) % n + 1))
			add_item "$(printf '%s/www/f/%05d.xml' "$work" "$f")" "$f" "$k"
		done
		sleep 1
	done
	echo "$k" >"$work/changed"
) &
changer_pid=$!

wrk -t2 -c"$clients" -d"${secs}s" --timeout 10s --latency "http://127.0.0.1:$fport/feed.atom" >"$work/wrk.out" 2>&1 || true
wait "$changer_pid"
changer_pid=
echo "wrk -t2 -c$clients -d${secs}s http://127.0.0.1:PORT/feed.atom:"
sed -n -e '/^ *Latency  /p' -e '/Req\/Sec/p' -e '/Latency Distribution/,/requests in/p' \
	-e '/Socket errors/p' -e '/Non-2xx/p' -e '/Requests\/sec/p' "$work/wrk.out" | sed 's/^/  /'
errors=$(sed -n 's/^ *Non-2xx or 3xx responses: *//p' "$work/wrk.out")
sockerr=$(sed -n 's/^ *Socket errors: *//p' "$work/wrk.out")

# The changes of the last half-run's polls are stored by now (interval 20 s); the
# store's sequence after the first id is what every subscriber must have had.
sleep 25
sqlite3 "$work/feedmux.db" "SELECT seq FROM items WHERE seq > $first ORDER BY seq" >"$work/expected"
echo "stories added to feeds: $(cat "$work/changed"); store: $(sqlite3 "$work/feedmux.db" \
	"SELECT count(*) FROM items") items, $(wc -l <"$work/expected") changes after $first"
echo "/status: $(curl -s --unix-socket "$work/feedmux.sock" http://localhost/status |
	grep -o -E '"(connections|subscribers|renders)": *[0-9]+' | tr '\n' ' ')"
kill -USR1 "$sse_pid"
sse_rc=0
wait "$sse_pid" || sse_rc=$?
sse_pid=
tail -n +2 "$work/sse.out"
kill "$sampler_pid" 2>/dev/null || true
sampler_pid=
fetches=$(polls)
echo "feedmuxd: peak RSS (VmHWM) $(status VmHWM), RSS now $(status VmRSS); $fetches fetches in" \
	"$(($(date +%s) - t0)) s; the first poll of all $n feeds under load took at most" \
	"$(cat "$work/first-poll" 2>/dev/null || echo '(not done)') s (sampled every 5 s)"
kill -TERM "$feedmuxd_pid"
daemon_rc=0
wait "$feedmuxd_pid" || daemon_rc=$?
feedmuxd_pid=
echo "feedmuxd exit status $daemon_rc; warnings and errors in its log: $(grep -c -E ': (warning|error):' "$work/feedmuxd.log" || true)"
grep -E ': (warning|error):' "$work/feedmuxd.log" | sort | uniq -c | sort -rn | head -5
[ "${errors:-0}" = 0 ] && [ -z "$sockerr" ] && [ "$sse_rc" = 0 ] && [ "$daemon_rc" = 0 ]
