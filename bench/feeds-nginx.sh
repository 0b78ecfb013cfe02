# Sourced by bench/poll.sh and bench/load.sh: N feeds made by a small awk
# generator, served by nginx on 127.0.0.1 as a web server of feeds would
# be set up (gzip, ETag, keep-alive).
#
#   gen_feeds DIR N        DIR/00001.xml ... : RSS 2.0, 50 items each with a
#                          guid, a link, a date and a 200-character
#                          description, about 17 kB a feed
#   add_item FILE FEED K   a new item K at the top of FILE (feed FEED)
#   start_nginx WORK PORT  serves WORK/www on 127.0.0.1:PORT; sets nginx_pid
#                          once it answers

gen_feeds() {
	awk -v n="$2" -v dir="$1" 'BEGIN {
		text = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor";
		text = text " incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis";
		text = text " nostrud exercitation ullamco.";
		split("Mon Tue Wed Thu Fri Sat Sun", dow, " ");
		for (f = 1; f <= n; f++) {
			file = sprintf("%s/%05d.xml", dir, f);
			printf "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>\n" > file;
			printf "<title>Feed %d</title><link>http://example.com/%d/</link>\n", f, f > file;
			printf "<description>Benchmark feed %d</description>\n", f > file;
			for (i = 1; i <= 50; i++) {
				day = 1 + (f + i) % 28; hour = (f * 7 + i) % 24;
				printf "<item><title>Feed %d, story %d</title>", f, i > file;
				printf "<link>http://example.com/%d/%d</link>", f, i > file;
				printf "<guid isPermaLink=\"false\">feed-%d-story-%d</guid>", f, i > file;
				printf "<pubDate>%s, %02d Feb 2026 %02d:%02d:00 GMT</pubDate>", dow[1 + (day % 7)], day, hour, i % 60 > file;
				printf "<description>%s %d.%d</description></item>\n", text, f, i > file;
			}
			printf "</channel></rss>\n" > file;
			close(file);
		}
	}'
}

# The file is replaced whole (rename), as a publisher's deploy would.
add_item() {
	sed "4a <item><title>Feed $2, new story $3</title><link>http://example.com/$2/new/$3</link><guid isPermaLink=\"false\">feed-$2-new-$3</guid><pubDate>$(date -u '+%a, %d %b %Y %H:%M:%S GMT')</pubDate><description>New story $3 of feed $2.</description></item>" \
		"$1" >"$1.new" && mv "$1.new" "$1"
}

start_nginx() {
	mkdir -p "$1/nginx"
	cat >"$1/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $1/nginx/nginx.pid;
error_log $1/nginx/error.log;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $1/nginx/body;
	proxy_temp_path $1/nginx/proxy;
	fastcgi_temp_path $1/nginx/fastcgi;
	uwsgi_temp_path $1/nginx/uwsgi;
	scgi_temp_path $1/nginx/scgi;
	types { application/rss+xml xml; }
	gzip on;
	gzip_types application/rss+xml;
	keepalive_requests 100000;
	server {
		listen 127.0.0.1:$2;
		root $1/www;
	}
}
CONF
	nginx -c "$1/nginx/nginx.conf" -p "$1/nginx" &
	nginx_pid=$!
	for _ in $(seq 50); do
		curl -sf -o /dev/null "http://127.0.0.1:$2/f/00001.xml" && break
		sleep 0.1
	done
}
