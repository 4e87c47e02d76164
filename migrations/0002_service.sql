-- The service's durable queue: deliveries seen, sync requests, and leases.
-- A kill -9 loses nothing: every row is written before the HTTP answer is sent.

CREATE TABLE deliveries (
    id           TEXT PRIMARY KEY,   -- X-GitHub-Delivery (the same on redelivery)
    event        TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    outcome      TEXT NOT NULL,      -- queued, ping, ignored, refused
    reason       TEXT,
    repository   TEXT,
    ref          TEXT,
    after        TEXT,
    run_id       INTEGER
);
CREATE INDEX deliveries_received ON deliveries (received_at);

CREATE TABLE sync_requests (
    id           INTEGER PRIMARY KEY,
    ontology_id  TEXT NOT NULL,
    kind         TEXT NOT NULL,      -- push, reconcile, resync, resume
    force        INTEGER NOT NULL DEFAULT 0,
    status       TEXT NOT NULL,      -- pending, running, done
    requested_at TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    run_id       INTEGER,            -- the sync_runs row created when the request was accepted
    coalesced    INTEGER NOT NULL DEFAULT 1
);
-- One pending request per ontology: bursts coalesce into it by upsert.
CREATE UNIQUE INDEX sync_requests_one_pending ON sync_requests (ontology_id)
    WHERE status = 'pending';

CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
