-- Schema 4: flows that talk. An activation started by another names its
-- parent. Hosts send activations messages (signals), which wait in a
-- mailbox per name until a receiver (a pending vow the flow made) takes
-- them (a vow of kind 3, which only a message settles). Activations publish
-- statuses, which hosts read without waking them.

ALTER TABLE activations ADD COLUMN parent BLOB;                    -- the activation that started it as a child
ALTER TABLE activations ADD COLUMN sent INTEGER NOT NULL DEFAULT 0; -- messages sent to it so far
CREATE INDEX activations_parent ON activations (parent) WHERE parent IS NOT NULL;

-- Messages not yet received, and received ones that carry an idempotency
-- key (kept so a send with that key is taken once), until the activation
-- is done.
CREATE TABLE messages (
	act      BLOB    NOT NULL,
	seq      INTEGER NOT NULL,           -- its place among the messages sent to act, from 1
	name     TEXT    NOT NULL,           -- the mailbox
	key      TEXT,                       -- the sender's idempotency key
	payload  BLOB    NOT NULL,
	gen      INTEGER NOT NULL,           -- incarnation that sent it
	received INTEGER NOT NULL DEFAULT 0, -- 1 once a receiver took it
	PRIMARY KEY (act, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX messages_key ON messages (act, name, key) WHERE key IS NOT NULL;
CREATE INDEX messages_waiting ON messages (act, name, seq) WHERE received = 0;

-- Receivers waiting for the next message of a mailbox, in the order they
-- were made (rowid order): each is a pending vow.
CREATE TABLE receivers (
	act  BLOB NOT NULL,
	name TEXT NOT NULL,
	vow  BLOB NOT NULL
);
CREATE INDEX receivers_mailbox ON receivers (act, name);

-- What activations published: the last value under each name.
CREATE TABLE statuses (
	act     BLOB    NOT NULL,
	name    TEXT    NOT NULL,
	payload BLOB    NOT NULL,
	gen     INTEGER NOT NULL, -- incarnation that published it
	PRIMARY KEY (act, name)
) WITHOUT ROWID;
