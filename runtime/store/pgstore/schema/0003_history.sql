-- Schema 3: history worth searching. Activations carry times (created, in
-- their state since, finished) and log entries the time they were written;
-- listings walk indexes newest first; activations are found by start key
-- and by outcome vow; done ones are purged by finish time, and a log may be
-- kept for audit when its activation finishes.
--
-- Rows written before this schema get the start of the incarnation that
-- wrote them: the best time the store knows for them.

ALTER TABLE activations
	ADD COLUMN created_ns  bigint NOT NULL DEFAULT 0,
	ADD COLUMN state_ns    bigint NOT NULL DEFAULT 0,
	ADD COLUMN finished_ns bigint;
ALTER TABLE entries ADD COLUMN at_ns bigint NOT NULL DEFAULT 0;

UPDATE activations a SET
	created_ns = coalesce((SELECT i.started_ns FROM incarnations i WHERE i.gen = a.created_gen), 0),
	state_ns = coalesce((SELECT i.started_ns FROM incarnations i WHERE i.gen = a.gen), 0);
UPDATE activations SET finished_ns = state_ns WHERE state = 4;
UPDATE entries e SET at_ns = coalesce((SELECT i.started_ns FROM incarnations i WHERE i.gen = e.gen), 0);

DROP INDEX activations_revive;
CREATE INDEX activations_created ON activations (created_ns, id);
CREATE INDEX activations_state ON activations (state, created_ns, id);
CREATE INDEX activations_flow ON activations (flow, created_ns, id);
CREATE INDEX activations_gen ON activations (created_gen, created_ns, id);
CREATE INDEX activations_key ON activations (start_key, created_ns, id) WHERE start_key IS NOT NULL;
CREATE INDEX activations_outcome ON activations (outcome);
CREATE INDEX activations_finished ON activations (finished_ns) WHERE state = 4;
CREATE INDEX incarnations_build ON incarnations (build);

-- The functions take the time of what they do.
DROP FUNCTION create_activation(bytea, text, text, bytea, bytea, bigint);
DROP FUNCTION settle_timers(bytea[], bytea[], bigint);
DROP FUNCTION finish(bytea, smallint, bytea, bigint);
DROP FUNCTION watch(bytea, bytea[], boolean, bigint);
DROP FUNCTION settle(bytea, smallint, bytea, bigint);

-- activation_row is an activation as the store reads it: the row, then the
-- time and incarnation of its last log entry.
CREATE FUNCTION activation_row(p_id bytea)
RETURNS TABLE (act_id bytea, flow text, start_key text, args bytea, state smallint, outcome bytea, created_gen bigint, gen bigint, failure bytea,
	created_ns bigint, state_ns bigint, finished_ns bigint, last_at bigint, last_gen bigint)
LANGUAGE sql STABLE AS $$
	SELECT a.id, a.flow, a.start_key, a.args, a.state, a.outcome, a.created_gen, a.gen, a.failure,
		a.created_ns, a.state_ns, a.finished_ns,
		(SELECT e.at_ns FROM entries e WHERE e.act = a.id ORDER BY e.step DESC LIMIT 1),
		(SELECT e.gen FROM entries e WHERE e.act = a.id ORDER BY e.step DESC LIMIT 1)
	FROM activations a WHERE a.id = p_id
$$;

CREATE FUNCTION create_activation(p_id bytea, p_flow text, p_key text, p_args bytea, p_outcome bytea, p_gen bigint, p_at bigint)
RETURNS TABLE (act_id bytea, flow text, start_key text, args bytea, state smallint, outcome bytea, created_gen bigint, gen bigint, failure bytea,
	created_ns bigint, state_ns bigint, finished_ns bigint, last_at bigint, last_gen bigint)
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO activations AS a (id, flow, start_key, args, state, outcome, created_gen, gen, created_ns, state_ns)
		VALUES (p_id, p_flow, p_key, p_args, 1, p_outcome, p_gen, p_gen, p_at, p_at)
		ON CONFLICT (id) DO NOTHING;
	IF FOUND THEN
		INSERT INTO vows (id, state, gen) VALUES (p_outcome, 0, p_gen);
		RETURN;
	END IF;
	RETURN QUERY SELECT * FROM activation_row(p_id);
END $$;

CREATE FUNCTION settle(p_id bytea, p_state smallint, p_payload bytea, p_gen bigint, p_at bigint,
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
		UPDATE activations SET state = 1, gen = p_gen, state_ns = p_at WHERE id = ANY (waiters) AND state = 2;
	END IF;
END $$;

CREATE FUNCTION watch(p_act bytea, p_vows bytea[], p_suspend boolean, p_gen bigint, p_at bigint,
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
		UPDATE activations SET state = 2, gen = p_gen, state_ns = p_at WHERE id = p_act AND state = 1;
	END IF;
END $$;

CREATE FUNCTION finish(p_act bytea, p_state smallint, p_payload bytea, p_gen bigint, p_at bigint, p_keep_log boolean,
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

CREATE FUNCTION settle_timers(p_vows bytea[], p_payloads bytea[], p_gen bigint, p_at bigint)
RETURNS TABLE (ord int, settled boolean, waiters bytea[])
LANGUAGE plpgsql AS $$
DECLARE
	i int;
	r record;
BEGIN
	FOR i IN 1 .. coalesce(array_length(p_vows, 1), 0) LOOP
		SELECT * INTO r FROM settle(p_vows[i], 1::smallint, p_payloads[i], p_gen, p_at);
		ord := i - 1;
		settled := r.settled;
		waiters := r.waiters;
		RETURN NEXT;
	END LOOP;
END $$;

-- purge deletes done activations that finished before p_before, oldest
-- first, at most p_limit: rows, logs and outcome vows.
CREATE FUNCTION purge(p_before bigint, p_limit int) RETURNS int
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
	DELETE FROM activations WHERE id = ANY (ids);
	DELETE FROM vows WHERE id = ANY (outs);
	RETURN array_length(ids, 1);
END $$;
