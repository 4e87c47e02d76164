-- The operator's view (issue 14): where the branch head is, since when the database is
-- behind it, and what started each run.

-- The branch head as last seen (by a run or a head poll) and when; behind_since is when
-- the head was first seen ahead of synced_commit (NULL while they match). What an alert on
-- "seconds behind" reads, and the status page's "behind since".
ALTER TABLE sync_state ADD COLUMN head_commit TEXT;
ALTER TABLE sync_state ADD COLUMN head_checked_at TEXT;
ALTER TABLE sync_state ADD COLUMN behind_since TEXT;

-- What asked for the run, in words: "push of 1a2b3c4d5e6f (delivery 72d3...)", "admin
-- resync (forced)", "nightly reconciliation", "head poll: 1a2b3c4d5e6f", "syncer sync".
-- Coalesced requests join their triggers with "; ".
ALTER TABLE sync_runs ADD COLUMN trigger TEXT;
