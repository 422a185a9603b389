/** Station store schema, version 1 (issue 15). Kept as a module, not a .sql file, so the build (tsc) carries it into dist/. */
export const sql = `
-- Station store, version 1 (issue 15). One file for both engines: {{id}} is an
-- auto-numbered primary key ("INTEGER PRIMARY KEY AUTOINCREMENT" on SQLite,
-- "BIGSERIAL PRIMARY KEY" on PostgreSQL); times are Unix ms in BIGINT;
-- booleans are 0/1 integers; JSON is TEXT (both engines, one mapper).

CREATE TABLE posts (
  site TEXT NOT NULL,
  post TEXT NOT NULL,
  post_type TEXT,
  grp TEXT,
  online INTEGER NOT NULL DEFAULT 0,
  status_since BIGINT,
  status_at BIGINT,
  state TEXT,
  last_state_at BIGINT,
  last_test_report_at BIGINT,
  test_interval_s INTEGER NOT NULL DEFAULT 60,
  outbox_depth INTEGER,
  walk_test_report TEXT,
  PRIMARY KEY (site, post)
);

CREATE TABLE devices (
  site TEXT NOT NULL,
  post TEXT NOT NULL,
  device TEXT NOT NULL,
  kind TEXT,
  label TEXT,
  location TEXT,
  state TEXT NOT NULL,
  missing INTEGER NOT NULL DEFAULT 0,
  low_battery INTEGER NOT NULL DEFAULT 0,
  tamper INTEGER NOT NULL DEFAULT 0,
  mains_lost INTEGER NOT NULL DEFAULT 0,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (site, post, device)
);

CREATE TABLE alerts (
  id TEXT PRIMARY KEY,
  site TEXT NOT NULL,
  post TEXT NOT NULL,
  device TEXT NOT NULL,
  device_kind TEXT NOT NULL,
  label TEXT,
  location TEXT,
  kind TEXT NOT NULL,
  cls TEXT NOT NULL,
  priority INTEGER NOT NULL,
  value DOUBLE PRECISION,
  rssi INTEGER,
  test INTEGER NOT NULL,
  origin_post TEXT,
  hw_time BIGINT NOT NULL,
  sent_time BIGINT NOT NULL,
  received_at BIGINT NOT NULL,
  ack_by TEXT,
  ack_at BIGINT,
  ack_note TEXT,
  payload TEXT NOT NULL
);
CREATE INDEX alerts_queue ON alerts (ack_at, priority, received_at);
CREATE INDEX alerts_post ON alerts (site, post, received_at);
CREATE INDEX alerts_received ON alerts (received_at);

CREATE TABLE rejected (
  id {{id}},
  at BIGINT NOT NULL,
  topic TEXT NOT NULL,
  reason TEXT NOT NULL,
  excerpt TEXT NOT NULL
);

CREATE TABLE operators (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  lang TEXT,
  password_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
  token TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  expires_at BIGINT NOT NULL
);

CREATE TABLE audit (
  id {{id}},
  at BIGINT NOT NULL,
  who TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT,
  detail TEXT,
  from_addr TEXT
);

CREATE TABLE roll_calls (
  id TEXT PRIMARY KEY,
  started_at BIGINT NOT NULL,
  deadline BIGINT NOT NULL,
  by_name TEXT NOT NULL,
  scope_site TEXT,
  scope_group TEXT
);

CREATE TABLE roll_call_entries (
  roll_call TEXT NOT NULL,
  site TEXT NOT NULL,
  post TEXT NOT NULL,
  state TEXT NOT NULL,
  answered_by TEXT,
  answered_at BIGINT,
  PRIMARY KEY (roll_call, site, post)
);
`
