-- A feedmux database at schema version 1 (the walking skeleton), with data,
-- for the migration test: two feeds carry one story (different spellings of
-- its link), a third item stands alone.
PRAGMA user_version = 1;
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE feeds( id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, url TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1, title TEXT, link TEXT, etag TEXT, last_modified TEXT, last_fetch INTEGER, next_poll INTEGER, http_status INTEGER, error TEXT, item_count INTEGER NOT NULL DEFAULT 0);
CREATE TABLE items( id INTEGER PRIMARY KEY, feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE, identity TEXT NOT NULL, guid TEXT, title TEXT, link TEXT, author TEXT, summary TEXT, summary_type INTEGER NOT NULL DEFAULT 0, content TEXT, content_type INTEGER NOT NULL DEFAULT 0, published INTEGER, updated INTEGER, first_seen INTEGER NOT NULL, changed_at INTEGER, sort_time INTEGER NOT NULL, version INTEGER NOT NULL DEFAULT 1, UNIQUE(feed_id, identity));
CREATE INDEX items_by_time ON items(sort_time DESC, id DESC);

INSERT INTO meta VALUES ('instance_id', '5b0e6a52-6c1a-4bb0-9d0e-7d7d1f9f4a11');
INSERT INTO feeds(id, name, url, title, link, etag, item_count) VALUES
 (1, 'alpha', 'https://a.example/feed', 'Alpha', 'https://a.example/', '"a1"', 2),
 (2, 'beta', 'https://b.example/feed', 'Beta', 'https://b.example/', NULL, 1);
INSERT INTO items(id, feed_id, identity, guid, title, link, summary, published, first_seen, sort_time) VALUES
 (1, 1, 'a-1', 'a-1', 'Shared story', 'https://News.example/story?id=7&utm_source=rss', 'From alpha', 1000, 5000, 1000),
 (2, 1, 'a-2', 'a-2', 'Alpha only', 'https://a.example/2', NULL, 2000, 5000, 2000),
 (3, 2, 'b-1', 'b-1', 'Shared story', 'https://news.example:443/story?id=7#top', 'From beta', 1500, 6000, 1500);
