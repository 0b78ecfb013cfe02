#!/bin/sh
# One full poll of N feeds x 50 items served by nginx on 127.0.0.1, cold
# (empty database) and warm (every answer a 304 where the client sends
# validators), by feedmuxd --once, sfeed_update and newsboat -x reload, side
# by side in one run.  Prints one line per run: wall seconds, CPU seconds
# (user + system, children included), peak RSS.
#
#   bench/poll.sh FEEDMUXD [FEEDS] [NEWSBOAT_FEEDS]
#
# Environment: TOOLS (default "feedmux sfeed newsboat") picks the tools;
# KEEP=1 keeps the work folder (and nginx running) for a closer look.
#
# FEEDS defaults to 10000.  newsboat takes about 45 s per 1,000 feeds even
# when nothing changed, so it polls the first NEWSBOAT_FEEDS (default 1000)
# of them; feedmuxd and sfeed_update poll that subset too, so there is a
# like-for-like line for every tool at that size.  Needs: scripts/setup --bench.
#
# The feeds are made by a small awk generator (bench/feeds-nginx.sh,
# not bench/'s corpus generator): RSS 2.0, 50 items each with a guid, a
# link, a date and a 200-character description, about 17 kB a feed.
set -eu
. "$(dirname "$0")/feeds-nginx.sh"

feedmuxd=$(realpath "$1")
n=${2:-10000}
nb_n=${3:-1000}
[ "$nb_n" -gt "$n" ] && nb_n=$n
work=$(mktemp -d "${TMPDIR:-/tmp}/feedmux-poll-XXXXXX")
port=$((20000 + $$ % 20000))
nginx_pid=""

cleanup() {
	[ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
	rm -rf "$work"
}
[ -n "${KEEP:-}" ] || trap cleanup EXIT INT TERM

echo "== poll benchmark: $n feeds x 50 items on 127.0.0.1:$port ($(nproc) cores; $(date -u +%FT%TZ))"
mkdir -p "$work/www/f"
chmod 755 "$work" # nginx's workers run as www-data

# The feeds.
gen_feeds "$work/www/f" "$n"
echo "feeds: $(du -sh "$work/www/f" | cut -f1) on disk"

start_nginx "$work" "$port"

url() { printf 'http://127.0.0.1:%s/f/%05d.xml' "$port" "$1"; }

# measure LABEL FEEDS COMMAND...: one line of figures, from GNU time.
measure() {
	label=$1 feeds=$2
	shift 2
	/usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" >"$work/$label.out" 2>"$work/$label.err" ||
		echo "$label: exit status $? (see below)" >&2
	read -r wall user sys rss <<EOF
$(tail -n 1 "$work/time")
EOF
	printf '%-22s %6s feeds  wall %8.2f s  cpu %8.2f s  peak RSS %7.1f MB\n' "$label" "$feeds" \
		"$wall" "$(echo "$user + $sys" | bc)" "$(echo "scale=1; $rss / 1024" | bc)"
}

# feedmuxd: one host, so politeness is set to what the others do (no spacing, 16 at a time).
feedmux_conf() {
	cat >"$work/feedmux-$1.conf" <<EOF
[feedmux]
database = $work/feedmux-$1.db
listen = $work/feedmux-$1.sock
interval = 1h
host_connections = 16
max_transfers = 16
host_delay = 0
EOF
	for i in $(seq "$1"); do
		printf '[feed "f%05d"]\nurl = %s\n' "$i" "$(url "$i")"
	done >>"$work/feedmux-$1.conf"
}

# sfeed_update: its defaults (8 jobs, curl, no compression and no conditional GET).
sfeed_conf() {
	mkdir -p "$work/sfeed-$1"
	{
		echo "sfeedpath=\"$work/sfeed-$1\""
		echo "feeds() {"
		for i in $(seq "$1"); do
			printf '\tfeed "f%05d" "%s"\n' "$i" "$(url "$i")"
		done
		echo "}"
	} >"$work/sfeedrc-$1"
}

# newsboat: its defaults, with its files in the work folder.
newsboat_conf() {
	mkdir -p "$work/nb-$1"
	for i in $(seq "$1"); do url "$i"; echo; done >"$work/nb-$1/urls"
	: >"$work/nb-$1/config"
}

feedmux_conf "$n"
sfeed_conf "$n"
if [ "$nb_n" -ne "$n" ]; then
	feedmux_conf "$nb_n"
	sfeed_conf "$nb_n"
fi
newsboat_conf "$nb_n"

run_feedmux() {
	measure "feedmuxd cold" "$1" "$feedmuxd" -c "$work/feedmux-$1.conf" --once
	stored=$(grep -c ': 50 items (50 new' "$work/feedmuxd cold.err" || true)
	measure "feedmuxd warm" "$1" "$feedmuxd" -c "$work/feedmux-$1.conf" --once
	notmod=$(grep -c ': not modified' "$work/feedmuxd warm.err" || true)
	echo "  (feedmuxd: $stored of $1 feeds stored in full cold, $notmod of $1 not modified warm)"
}

run_sfeed() {
	measure "sfeed_update cold" "$1" sfeed_update "$work/sfeedrc-$1"
	measure "sfeed_update again" "$1" sfeed_update "$work/sfeedrc-$1"
	echo "  (sfeed: $(find "$work/sfeed-$1" -type f | wc -l) feed files)"
}

run_newsboat() {
	export HOME="$work/nb-$1"
	measure "newsboat cold" "$1" newsboat -x reload -u "$work/nb-$1/urls" -c "$work/nb-$1/cache.db" -C "$work/nb-$1/config"
	measure "newsboat warm" "$1" newsboat -x reload -u "$work/nb-$1/urls" -c "$work/nb-$1/cache.db" -C "$work/nb-$1/config"
}

tools=${TOOLS:-feedmux sfeed newsboat}
has() { case " $tools " in *" $1 "*) return 0 ;; esac; return 1; }

echo "== $n feeds"
has feedmux && run_feedmux "$n"
has sfeed && run_sfeed "$n"
if [ "$nb_n" -eq "$n" ]; then
	has newsboat && run_newsboat "$n"
else
	echo "== $nb_n feeds (the subset newsboat polls)"
	has feedmux && run_feedmux "$nb_n"
	has sfeed && run_sfeed "$nb_n"
	has newsboat && run_newsboat "$nb_n"
fi
[ -n "${KEEP:-}" ] && echo "kept: $work (nginx pid $nginx_pid)"
exit 0
