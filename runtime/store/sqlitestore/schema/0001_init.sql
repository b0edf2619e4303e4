-- Schema 1: activations, their logs, vows, waits and timers.
--
-- Ids are 16 random bytes. Times are Unix nanoseconds. Activation states:
-- 1 running, 2 suspended, 3 failed, 4 done. Vow states: 0 pending,
-- 1 fulfilled, 2 rejected.

-- One row per incarnation: a run of a host program on this store.
CREATE TABLE incarnations (
	gen        INTEGER PRIMARY KEY,
	build      TEXT    NOT NULL,
	started_ns INTEGER NOT NULL,
	pid        INTEGER NOT NULL
);

CREATE TABLE activations (
	id          BLOB    PRIMARY KEY,
	flow        TEXT    NOT NULL,
	start_key   TEXT,              -- the caller's id given to StartWithID
	args        BLOB    NOT NULL,  -- encoded argument tuple
	state       INTEGER NOT NULL,
	outcome     BLOB    NOT NULL,  -- id of the outcome vow
	created_gen INTEGER NOT NULL,
	gen         INTEGER NOT NULL,  -- incarnation of the last state change
	failure     BLOB               -- diagnostic (JSON) while failed
) WITHOUT ROWID;

-- Only running and failed activations are revived at start: the index holds
-- only those, so revival does not grow with the number of sleeping ones.
CREATE INDEX activations_revive ON activations (state) WHERE state IN (1, 3);

-- The log: one row per crossing.
CREATE TABLE entries (
	act     BLOB    NOT NULL,
	step    INTEGER NOT NULL,
	kind    INTEGER NOT NULL,
	gen     INTEGER NOT NULL,  -- incarnation that wrote it
	payload BLOB    NOT NULL,
	PRIMARY KEY (act, step)
) WITHOUT ROWID;

CREATE TABLE vows (
	id      BLOB    PRIMARY KEY,
	state   INTEGER NOT NULL,
	payload BLOB,              -- encoded value, or encoded error
	gen     INTEGER NOT NULL   -- incarnation that created or settled it
) WITHOUT ROWID;

-- What each suspended activation waits for.
CREATE TABLE waits (
	vow BLOB NOT NULL,
	act BLOB NOT NULL,
	PRIMARY KEY (vow, act)
) WITHOUT ROWID;
CREATE INDEX waits_act ON waits (act);

-- Durable timers: the vow is fulfilled with its deadline once it passes.
CREATE TABLE timers (
	deadline INTEGER NOT NULL,
	vow      BLOB    NOT NULL,
	PRIMARY KEY (deadline, vow)
) WITHOUT ROWID;
