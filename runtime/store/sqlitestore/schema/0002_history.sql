-- Schema 2: history worth searching. Activations carry times (created, in
-- their state since, finished) and log entries the time they were written;
-- listings walk indexes newest first; activations are found by start key
-- and by outcome vow; done ones are purged by finish time.
--
-- Rows written before this schema get the start of the incarnation that
-- wrote them: the best time the store knows for them.

ALTER TABLE activations ADD COLUMN created_ns  INTEGER NOT NULL DEFAULT 0;
ALTER TABLE activations ADD COLUMN state_ns    INTEGER NOT NULL DEFAULT 0;
ALTER TABLE activations ADD COLUMN finished_ns INTEGER; -- set once done
ALTER TABLE entries ADD COLUMN at_ns INTEGER NOT NULL DEFAULT 0;

UPDATE activations SET
	created_ns = coalesce((SELECT started_ns FROM incarnations WHERE gen = activations.created_gen), 0),
	state_ns = coalesce((SELECT started_ns FROM incarnations WHERE gen = activations.gen), 0);
UPDATE activations SET finished_ns = state_ns WHERE state = 4;
UPDATE entries SET at_ns = coalesce((SELECT started_ns FROM incarnations WHERE gen = entries.gen), 0);

-- Listings, newest first: one index for each way in. The state index also
-- serves revival (running and failed) and counts by state.
DROP INDEX activations_revive;
CREATE INDEX activations_created ON activations (created_ns, id);
CREATE INDEX activations_state ON activations (state, created_ns, id);
CREATE INDEX activations_flow ON activations (flow, created_ns, id);
CREATE INDEX activations_gen ON activations (created_gen, created_ns, id);
CREATE INDEX activations_key ON activations (start_key, created_ns, id) WHERE start_key IS NOT NULL;
CREATE INDEX activations_outcome ON activations (outcome);
CREATE INDEX activations_finished ON activations (finished_ns) WHERE state = 4;

CREATE INDEX incarnations_build ON incarnations (build);
