-- Schema 5: flows that talk. An activation started by another names its
-- parent. Hosts send activations messages (signals), which wait in a
-- mailbox per name until a receiver (a pending vow the flow made) takes
-- them (a vow of kind 3, which only a message settles). Activations publish
-- statuses, which hosts read without waking them.

ALTER TABLE activations ADD COLUMN parent bytea;                   -- the activation that started it as a child
ALTER TABLE activations ADD COLUMN sent bigint NOT NULL DEFAULT 0; -- messages sent to it so far
CREATE INDEX activations_parent ON activations (parent) WHERE parent IS NOT NULL;

-- Messages not yet received, and received ones that carry an idempotency
-- key (kept so a send with that key is taken once), until the activation
-- is done.
CREATE TABLE messages (
	act      bytea   NOT NULL,
	seq      bigint  NOT NULL,               -- its place among the messages sent to act, from 1
	name     text    NOT NULL,               -- the mailbox
	key      text,                           -- the sender's idempotency key
	payload  bytea   NOT NULL,
	gen      bigint  NOT NULL,               -- incarnation that sent it
	received boolean NOT NULL DEFAULT false, -- true once a receiver took it
	PRIMARY KEY (act, seq)
);
CREATE UNIQUE INDEX messages_key ON messages (act, name, key) WHERE key IS NOT NULL;
CREATE INDEX messages_waiting ON messages (act, name, seq) WHERE NOT received;

-- Receivers waiting for the next message of a mailbox, in the order they
-- were made: each is a pending vow.
CREATE TABLE receivers (
	ord  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	act  bytea  NOT NULL,
	name text   NOT NULL,
	vow  bytea  NOT NULL
);
CREATE INDEX receivers_mailbox ON receivers (act, name, ord);

-- What activations published: the last value under each name.
CREATE TABLE statuses (
	act     bytea  NOT NULL,
	name    text   NOT NULL,
	payload bytea  NOT NULL,
	gen     bigint NOT NULL, -- incarnation that published it
	PRIMARY KEY (act, name)
);

-- An activation as the store reads it carries its parent, last.
DROP FUNCTION create_activation(bytea, text, text, bytea, bytea, bigint, bigint);
DROP FUNCTION activation_row(bytea);

CREATE FUNCTION activation_row(p_id bytea)
RETURNS TABLE (act_id bytea, flow text, start_key text, args bytea, state smallint, outcome bytea, created_gen bigint, gen bigint, failure bytea,
	created_ns bigint, state_ns bigint, finished_ns bigint, last_at bigint, last_gen bigint, parent bytea)
LANGUAGE sql STABLE AS $$
	SELECT a.id, a.flow, a.start_key, a.args, a.state, a.outcome, a.created_gen, a.gen, a.failure,
		a.created_ns, a.state_ns, a.finished_ns,
		(SELECT e.at_ns FROM entries e WHERE e.act = a.id ORDER BY e.step DESC LIMIT 1),
		(SELECT e.gen FROM entries e WHERE e.act = a.id ORDER BY e.step DESC LIMIT 1),
		a.parent
	FROM activations a WHERE a.id = p_id
$$;

CREATE FUNCTION create_activation(p_id bytea, p_flow text, p_key text, p_args bytea, p_outcome bytea, p_gen bigint, p_at bigint, p_parent bytea)
RETURNS TABLE (act_id bytea, flow text, start_key text, args bytea, state smallint, outcome bytea, created_gen bigint, gen bigint, failure bytea,
	created_ns bigint, state_ns bigint, finished_ns bigint, last_at bigint, last_gen bigint, parent bytea)
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO activations AS a (id, flow, start_key, args, state, outcome, created_gen, gen, created_ns, state_ns, parent)
		VALUES (p_id, p_flow, p_key, p_args, 1, p_outcome, p_gen, p_gen, p_at, p_at, p_parent)
		ON CONFLICT (id) DO NOTHING;
	IF FOUND THEN
		INSERT INTO vows (id, kind, state, gen) VALUES (p_outcome, 1, 0, p_gen);
		RETURN;
	END IF;
	RETURN QUERY SELECT * FROM activation_row(p_id);
END $$;

-- finish also drops the activation's mailbox: messages no receiver took,
-- and its receivers (whose vows stay pending).
CREATE OR REPLACE FUNCTION finish(p_act bytea, p_state smallint, p_payload bytea, p_gen bigint, p_at bigint, p_keep_log boolean,
	OUT finished boolean, OUT outcome bytea, OUT waiters bytea[])
LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	UPDATE activations a SET state = 4, failure = NULL, gen = p_gen, state_ns = p_at, finished_ns = p_at
		WHERE a.id = p_act AND a.state <> 4
		RETURNING a.outcome INTO outcome;
	IF NOT FOUND THEN
		finished := false;
		outcome := NULL;
		RETURN;
	END IF;
	finished := true;
	IF NOT p_keep_log THEN
		DELETE FROM entries WHERE act = p_act;
	END IF;
	DELETE FROM waits WHERE act = p_act;
	DELETE FROM messages WHERE act = p_act;
	DELETE FROM receivers WHERE act = p_act;
	SELECT * INTO r FROM settle(outcome, p_state, p_payload, p_gen, p_at);
	IF r.missing THEN
		RAISE EXCEPTION 'activation %: its outcome vow % is missing', encode(p_act, 'hex'), encode(outcome, 'hex')
			USING ERRCODE = 'AF002';
	END IF;
	IF NOT r.settled THEN
		RAISE EXCEPTION 'activation %: its outcome vow % is settled already, though the activation is not done (an internal error)',
			encode(p_act, 'hex'), encode(outcome, 'hex')
			USING ERRCODE = 'AF001';
	END IF;
	waiters := r.waiters;
END $$;

-- purge also deletes what the purged activations published.
CREATE OR REPLACE FUNCTION purge(p_before bigint, p_limit int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
	ids bytea[];
	outs bytea[];
BEGIN
	SELECT array_agg(d.id), array_agg(d.outcome) INTO ids, outs FROM (
		SELECT a.id, a.outcome FROM activations a WHERE a.state = 4 AND a.finished_ns < p_before
		ORDER BY a.finished_ns LIMIT p_limit FOR UPDATE) d;
	IF ids IS NULL THEN
		RETURN 0;
	END IF;
	DELETE FROM entries WHERE act = ANY (ids);
	DELETE FROM waits WHERE act = ANY (ids);
	DELETE FROM messages WHERE act = ANY (ids);
	DELETE FROM receivers WHERE act = ANY (ids);
	DELETE FROM statuses WHERE act = ANY (ids);
	DELETE FROM activations WHERE id = ANY (ids);
	DELETE FROM vows WHERE id = ANY (outs);
	RETURN array_length(ids, 1);
END $$;

-- send_message puts a message into a mailbox, or hands it to the mailbox's
-- earliest receiver. Sends and receives of one activation lock its row
-- first, so that a message and a receiver made at once in two transactions
-- always meet. result: 1 queued, 2 delivered, 3 duplicate, 4 conflict,
-- 5 finished, 6 no such activation, 7 other flow (store.SendResult).
CREATE FUNCTION send_message(p_act bytea, p_flow text, p_name text, p_key text, p_payload bytea, p_gen bigint, p_at bigint,
	OUT result int, OUT seq bigint, OUT vow bytea, OUT waiters bytea[])
LANGUAGE plpgsql AS $$
DECLARE
	f text;
	s smallint;
	taken bytea;
	rcv record;
	r record;
BEGIN
	seq := 0;
	SELECT a.flow, a.state INTO f, s FROM activations a WHERE a.id = p_act FOR UPDATE;
	IF NOT FOUND THEN
		result := 6;
		RETURN;
	END IF;
	IF p_flow <> '' AND f <> p_flow THEN
		result := 7;
		RETURN;
	END IF;
	IF s = 4 THEN
		result := 5;
		RETURN;
	END IF;
	IF p_key IS NOT NULL THEN
		SELECT m.payload INTO taken FROM messages m WHERE m.act = p_act AND m.name = p_name AND m.key = p_key;
		IF FOUND THEN
			result := CASE WHEN taken = p_payload THEN 3 ELSE 4 END;
			RETURN;
		END IF;
	END IF;
	UPDATE activations a SET sent = a.sent + 1 WHERE a.id = p_act RETURNING a.sent INTO seq;
	result := 1;
	FOR rcv IN SELECT v.ord, v.vow FROM receivers v WHERE v.act = p_act AND v.name = p_name ORDER BY v.ord LOOP
		DELETE FROM receivers WHERE ord = rcv.ord;
		SELECT * INTO r FROM settle(rcv.vow, 1::smallint, p_payload, p_gen, p_at);
		IF r.settled THEN
			result := 2;
			vow := rcv.vow;
			waiters := r.waiters;
			EXIT;
		END IF;
	END LOOP;
	IF result = 2 AND p_key IS NULL THEN
		RETURN;
	END IF;
	INSERT INTO messages (act, seq, name, key, payload, gen, received)
		VALUES (p_act, seq, p_name, p_key, p_payload, p_gen, result = 2);
END $$;

-- receive makes p_vow a pending vow and a receiver in a mailbox; the
-- earliest message waiting there settles it at once.
CREATE FUNCTION receive(p_act bytea, p_name text, p_vow bytea, p_gen bigint,
	OUT delivered boolean, OUT seq bigint)
LANGUAGE plpgsql AS $$
DECLARE
	m record;
	r record;
BEGIN
	delivered := false;
	seq := 0;
	PERFORM 1 FROM activations a WHERE a.id = p_act FOR UPDATE;
	INSERT INTO vows (id, kind, state, gen) VALUES (p_vow, 3, 0, p_gen);
	SELECT w.seq, w.key, w.payload INTO m FROM messages w
		WHERE w.act = p_act AND w.name = p_name AND NOT w.received ORDER BY w.seq LIMIT 1;
	IF NOT FOUND THEN
		INSERT INTO receivers (act, name, vow) VALUES (p_act, p_name, p_vow);
		RETURN;
	END IF;
	IF m.key IS NULL THEN
		DELETE FROM messages w WHERE w.act = p_act AND w.seq = m.seq;
	ELSE
		UPDATE messages w SET received = true WHERE w.act = p_act AND w.seq = m.seq;
	END IF;
	SELECT * INTO r FROM settle(p_vow, 1::smallint, m.payload, p_gen, 0); -- a new vow: no one waits
	delivered := true;
	seq := m.seq;
END $$;
