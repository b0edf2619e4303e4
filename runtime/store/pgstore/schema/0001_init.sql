-- Schema 1: activations, their logs, vows, waits and timers.
--
-- Every object lives in the store's own PostgreSQL schema (asyncflow by
-- default); the connections put it first on their search_path, so the names
-- here are unqualified. Ids are 16 random bytes. Times are Unix nanoseconds.
-- Activation states: 1 running, 2 suspended, 3 failed, 4 done. Vow states:
-- 0 pending, 1 fulfilled, 2 rejected.

-- The mark of an asyncflow store, and its schema version: one row.
CREATE TABLE store_meta (
	application text NOT NULL,
	version     int  NOT NULL
);

-- One row per incarnation: a run of a host program on this store.
CREATE TABLE incarnations (
	gen        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	build      text   NOT NULL,
	started_ns bigint NOT NULL,
	pid        int    NOT NULL
);

CREATE TABLE activations (
	id          bytea    PRIMARY KEY,
	flow        text     NOT NULL,
	start_key   text,              -- the caller's id given to StartWithID
	args        bytea    NOT NULL, -- encoded argument tuple
	state       smallint NOT NULL,
	outcome     bytea    NOT NULL, -- id of the outcome vow
	created_gen bigint   NOT NULL,
	gen         bigint   NOT NULL, -- incarnation of the last state change
	failure     bytea              -- diagnostic (JSON) while failed
);

-- Only running and failed activations are revived at start: the index holds
-- only those, so revival does not grow with the number of sleeping ones.
CREATE INDEX activations_revive ON activations (state) WHERE state IN (1, 3);

-- The log: one row per crossing.
CREATE TABLE entries (
	act     bytea  NOT NULL,
	step    bigint NOT NULL,
	kind    int    NOT NULL,
	gen     bigint NOT NULL, -- incarnation that wrote it
	payload bytea  NOT NULL,
	PRIMARY KEY (act, step)
);

CREATE TABLE vows (
	id      bytea    PRIMARY KEY,
	state   smallint NOT NULL,
	payload bytea,           -- encoded value, or encoded error
	gen     bigint   NOT NULL -- incarnation that created or settled it
);

-- What each suspended activation waits for.
CREATE TABLE waits (
	vow bytea NOT NULL,
	act bytea NOT NULL,
	PRIMARY KEY (vow, act)
);
CREATE INDEX waits_act ON waits (act);

-- Durable timers: the vow is fulfilled with its deadline once it passes.
CREATE TABLE timers (
	deadline bigint NOT NULL,
	vow      bytea  NOT NULL,
	PRIMARY KEY (deadline, vow)
);

-- The ops that read before they write are functions, so that a whole group
-- commit goes to the server in one round trip. Each statement of a function
-- sees what the statements before it wrote, and what other transactions had
-- committed when it began (READ COMMITTED).

-- create_activation inserts a running activation and its pending outcome
-- vow, or returns the stored activation if one has the id.
CREATE FUNCTION create_activation(p_id bytea, p_flow text, p_key text, p_args bytea, p_outcome bytea, p_gen bigint)
RETURNS TABLE (act_id bytea, flow text, start_key text, args bytea, state smallint, outcome bytea, created_gen bigint, gen bigint, failure bytea)
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO activations AS a (id, flow, start_key, args, state, outcome, created_gen, gen)
		VALUES (p_id, p_flow, p_key, p_args, 1, p_outcome, p_gen, p_gen)
		ON CONFLICT (id) DO NOTHING;
	IF FOUND THEN
		INSERT INTO vows (id, state, gen) VALUES (p_outcome, 0, p_gen);
		RETURN;
	END IF;
	RETURN QUERY SELECT a.id, a.flow, a.start_key, a.args, a.state, a.outcome, a.created_gen, a.gen, a.failure
		FROM activations a WHERE a.id = p_id;
END $$;

-- settle settles a pending vow and wakes its waiters: their waits go, and
-- the suspended ones run. Waiters is null when nothing was settled.
CREATE FUNCTION settle(p_id bytea, p_state smallint, p_payload bytea, p_gen bigint,
	OUT settled boolean, OUT missing boolean, OUT waiters bytea[])
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE vows SET state = p_state, payload = p_payload, gen = p_gen WHERE id = p_id AND state = 0;
	IF NOT FOUND THEN
		settled := false;
		missing := NOT EXISTS (SELECT 1 FROM vows WHERE id = p_id);
		RETURN;
	END IF;
	settled := true;
	missing := false;
	SELECT array_agg(w.act ORDER BY w.act) INTO waiters FROM waits w WHERE w.vow = p_id;
	IF waiters IS NOT NULL THEN
		DELETE FROM waits WHERE act = ANY (waiters);
		UPDATE activations SET state = 1, gen = p_gen WHERE id = ANY (waiters) AND state = 2;
	END IF;
END $$;

-- watch looks at vows an activation waits for, locking them so that a
-- settlement in another transaction comes wholly before or wholly after. If
-- one is missing, missing is its position (from 0); else if one is settled,
-- idx is the first such; else the waits are recorded and, with p_suspend, a
-- running activation is suspended.
CREATE FUNCTION watch(p_act bytea, p_vows bytea[], p_suspend boolean, p_gen bigint,
	OUT idx int, OUT missing int, OUT vstate smallint, OUT vpayload bytea, OUT vgen bigint)
LANGUAGE plpgsql AS $$
DECLARE
	i int;
	s smallint;
	p bytea;
	g bigint;
BEGIN
	idx := -1;
	missing := -1;
	FOR i IN 1 .. coalesce(array_length(p_vows, 1), 0) LOOP
		SELECT v.state, v.payload, v.gen INTO s, p, g FROM vows v WHERE v.id = p_vows[i] FOR SHARE;
		IF NOT FOUND THEN
			idx := -1;
			missing := i - 1;
			vstate := NULL; vpayload := NULL; vgen := NULL;
			RETURN;
		END IF;
		IF s <> 0 AND idx < 0 THEN
			idx := i - 1;
			vstate := s; vpayload := p; vgen := g;
		END IF;
	END LOOP;
	IF idx >= 0 THEN
		RETURN;
	END IF;
	INSERT INTO waits (vow, act) SELECT u, p_act FROM unnest(p_vows) u ON CONFLICT DO NOTHING;
	IF p_suspend THEN
		UPDATE activations SET state = 2, gen = p_gen WHERE id = p_act AND state = 1;
	END IF;
END $$;

-- finish settles an activation's outcome, marks it done and deletes its log
-- and waits. finished is false if it was done already or does not exist.
CREATE FUNCTION finish(p_act bytea, p_state smallint, p_payload bytea, p_gen bigint,
	OUT finished boolean, OUT outcome bytea, OUT waiters bytea[])
LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	UPDATE activations a SET state = 4, failure = NULL, gen = p_gen WHERE a.id = p_act AND a.state <> 4
		RETURNING a.outcome INTO outcome;
	IF NOT FOUND THEN
		finished := false;
		outcome := NULL;
		RETURN;
	END IF;
	finished := true;
	DELETE FROM entries WHERE act = p_act;
	DELETE FROM waits WHERE act = p_act;
	SELECT * INTO r FROM settle(outcome, p_state, p_payload, p_gen);
	waiters := r.waiters;
END $$;

-- settle_timers settles timer vows, fired already, with their payloads, and
-- returns for each whether it settled it and whom it woke.
CREATE FUNCTION settle_timers(p_vows bytea[], p_payloads bytea[], p_gen bigint)
RETURNS TABLE (ord int, settled boolean, waiters bytea[])
LANGUAGE plpgsql AS $$
DECLARE
	i int;
	r record;
BEGIN
	FOR i IN 1 .. coalesce(array_length(p_vows, 1), 0) LOOP
		SELECT * INTO r FROM settle(p_vows[i], 1::smallint, p_payloads[i], p_gen);
		ord := i - 1;
		settled := r.settled;
		waiters := r.waiters;
		RETURN NEXT;
	END LOOP;
END $$;
