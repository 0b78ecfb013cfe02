#!/bin/sh
# Serving benchmark (issue 6), outside CI.
#
#   bench/serve.sh [BUILD_DIR] [SECONDS]
#
# 1. wrk on loopback against feedmuxd's /feed.atom (100 entries), its 304
#    path and its gzip path, beside nginx serving the same bytes as a static
#    file with the same headers (and a precompressed .gz), side by side in
#    one run: wrk -t2 -c64 for SECONDS (default 10) each.
# 2. 10,000 idle /events subscribers held; one new item delivered to all.
# Needs: scripts/setup --bench (nginx, wrk).  Everything runs on 127.0.0.1
# and a temporary folder, and is stopped at the end.
set -eu
build=$(cd "${1:-build}" && pwd)
secs=${2:-10}
tmp=$(mktemp -d /tmp/feedmux-serve-XXXXXX)
chmod 755 "$tmp" # nginx's workers read www/ as nobody
feedmuxd_pid= nginx_pid=
cleanup() {
	[ -n "$feedmuxd_pid" ] && kill "$feedmuxd_pid" 2>/dev/null && wait "$feedmuxd_pid" 2>/dev/null
	[ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
fport=$(port)
nport=$(port)

# Five feeds of 40 items with ~5 KB of text each (pseudo-random words, so
# it compresses like prose): /feed.atom?limit=100 is about half a
# megabyte, like the 547 KB reference document.
mkdir -p "$tmp/feeds" "$tmp/www"
/usr/bin/python3 - "$tmp/feeds" <<'PY'
import random, sys
random.seed(46)
words = [''.join(random.choice('etaoinshrdlucmfwypvbgkqjxz') for _ in range(random.randint(2, 9)))
         for _ in range(3000)]
for f in range(1, 6):
    with open(f"{sys.argv[1]}/f{f}.xml", "w") as out:
        out.write(f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {f}</title>'
                  f'<link>https://f{f}.example/</link>\n')
        for i in range(1, 41):
            body = ' '.join(random.choice(words) for _ in range(850))
            out.write(f'<item><guid>f{f}-{i}</guid><title>Story {i} of feed {f}</title>'
                      f'<link>https://f{f}.example/{i}</link>'
                      f'<pubDate>Thu, {i % 28 + 1:02d} Jan 2026 1{f}:00:00 GMT</pubDate>'
                      f'<category>bench</category><description>{body}</description></item>\n')
        out.write('</channel></rss>\n')
PY
{
	printf '[feedmux]\ndatabase = %s/feedmux.db\nlisten = %s/feedmux.sock 127.0.0.1:%s\ninterval = 1s\nlog_level = warning\n' "$tmp" "$tmp" "$fport"
	for f in 1 2 3 4 5 trigger; do
		printf '[feed "f%s"]\nurl = file://%s/feeds/f%s.xml\nallow_file = yes\n' "$f" "$tmp" "$f"
	done
} >"$tmp/feedmux.conf"
cp "$tmp/feeds/f1.xml" "$tmp/feeds/ftrigger.xml"
"$build/feedmuxd" -c "$tmp/feedmux.conf" --once 2>/dev/null
# Polling the unchanged files again every second is part of the load, as in life.
"$build/feedmuxd" -c "$tmp/feedmux.conf" 2>"$tmp/feedmuxd.log" &
feedmuxd_pid=$!
sleep 1
url="http://127.0.0.1:$fport/feed.atom?limit=100"
curl -s -D "$tmp/h" -o "$tmp/www/feed.atom" "$url"
gzip -9 -k -n "$tmp/www/feed.atom"
etag=$(sed -n 's/^ETag: *//ip' "$tmp/h" | tr -d '\r')
gzetag=$(curl -s -D - -o /dev/null -H 'Accept-Encoding: gzip' "$url" | sed -n 's/^ETag: *//ip' | tr -d '\r')
size=$(wc -c <"$tmp/www/feed.atom")
gzsize=$(curl -s -H 'Accept-Encoding: gzip' "$url" | wc -c)

cat >"$tmp/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    types { }
    server {
        listen 127.0.0.1:$nport;
        root $tmp/www;
        location = /feed.atom {
            default_type "application/atom+xml; charset=utf-8";
            gzip_static on;
            gzip_vary on;
            add_header Cache-Control no-cache;
        }
    }
}
CONF
nginx -c "$tmp/nginx.conf" -p "$tmp" &
nginx_pid=$!
sleep 1
ngetag=$(curl -s -D - -o /dev/null "http://127.0.0.1:$nport/feed.atom" | sed -n 's/^ETag: *//ip' | tr -d '\r')
ngzetag=$(curl -s -D - -o /dev/null -H 'Accept-Encoding: gzip' "http://127.0.0.1:$nport/feed.atom" | sed -n 's/^ETag: *//ip' | tr -d '\r')

echo "bench/serve.sh: $(nproc) cores; /feed.atom?limit=100 is $size bytes ($gzsize gzipped); wrk -t2 -c64 -d${secs}s"
echo "feedmuxd (one thread) and nginx $(nginx -v 2>&1 | sed 's/.*\///') (worker_processes 1, sendfile, gzip_static), same bytes"
run() {
	label=$1
	shift
	out=$(wrk -t2 -c64 -d"${secs}s" "$@" 2>&1)
	rps=$(echo "$out" | sed -n 's/^Requests\/sec: *//p')
	errs=$(echo "$out" | sed -n 's/^ *Non-2xx or 3xx responses: *//p')
	sock=$(echo "$out" | sed -n 's/^ *Socket errors: *//p')
	printf '%-34s %10s req/s  non-2xx/3xx: %s  socket errors: %s\n' "$label" "$rps" "${errs:-0}" "${sock:-none}"
}
run "feedmux  /feed.atom (200)" "$url"
run "nginx    /feed.atom (200)" "http://127.0.0.1:$nport/feed.atom"
run "feedmux  304 (If-None-Match)" -H "If-None-Match: $etag" "$url"
run "nginx    304 (If-None-Match)" -H "If-None-Match: $ngetag" "http://127.0.0.1:$nport/feed.atom"
run "feedmux  gzip" -H 'Accept-Encoding: gzip' "$url"
run "nginx    gzip (gzip_static)" -H 'Accept-Encoding: gzip' "http://127.0.0.1:$nport/feed.atom"
echo "(feedmux 304 ETag $etag, gzip ETag $gzetag; nginx $ngetag / $ngzetag)"

# 10,000 idle subscribers, then one event to all of them.
rss() { sed -n 's/^VmRSS:[[:space:]]*//p' "/proc/$feedmuxd_pid/status"; }
echo "feedmuxd RSS before subscribers: $(rss)"
"$build/bench/bench_sse" "$tmp/feedmux.sock" "${SUBSCRIBERS:-10000}" "$tmp/feeds/ftrigger.xml" >"$tmp/sse.out" &
sse_pid=$!
until grep -q '^subscribed' "$tmp/sse.out" 2>/dev/null; do sleep 0.2; done
cat "$tmp/sse.out"
echo "feedmuxd RSS holding them: $(rss); /status says $(curl -s --unix-socket "$tmp/feedmux.sock" http://localhost/status | sed -n 's/.*"subscribers": *\([0-9]*\).*/\1/p') subscribers"
wait $sse_pid
tail -n +2 "$tmp/sse.out"
