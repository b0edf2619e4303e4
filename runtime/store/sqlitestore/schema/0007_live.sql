-- Schema 7: a start writes three pages. A start inserted its activation
-- into the table and eight indexes, and its outcome vow: nine pages
-- written and synced, where a bare single-row commit writes one. Now an
-- unfinished activation is in one index, activations_live, which serves
-- the census, revival and every listing of unfinished ones (merged flow by
-- flow in creation order); the indexes that list history hold done
-- activations only, written when an activation finishes; and an outcome
-- vow names its activation, so finding an activation by its outcome reads
-- the vow instead of an index of its own.

CREATE INDEX activations_live ON activations (state, flow, created_ns, id) WHERE state IN (1, 2, 3);
DROP INDEX activations_census;
DROP INDEX activations_state;

DROP INDEX activations_created;
DROP INDEX activations_flow;
DROP INDEX activations_gen;
CREATE INDEX activations_created ON activations (created_ns, id) WHERE state = 4;
CREATE INDEX activations_flow ON activations (flow, created_ns, id) WHERE state = 4;
CREATE INDEX activations_gen ON activations (created_gen, created_ns, id) WHERE state = 4;

ALTER TABLE vows ADD COLUMN act BLOB; -- an outcome vow's activation
UPDATE vows SET act = a.id FROM activations AS a WHERE a.outcome = vows.id AND vows.kind = 1;
DROP INDEX activations_outcome;
