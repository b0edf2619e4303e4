-- Schema 7: runs. An activation that continues as new starts its next run
-- with new arguments and an empty log; run counts them, from 0, and
-- run_args are the current run's arguments after the first (args stay those
-- it was started with). An activation as the store reads it carries both,
-- last.
ALTER TABLE activations ADD COLUMN run integer NOT NULL DEFAULT 0;
ALTER TABLE activations ADD COLUMN run_args bytea;

DROP FUNCTION create_activation(bytea, text, text, bytea, bytea, bigint, bigint, bytea, bigint, bigint);
DROP FUNCTION activation_row(bytea);

CREATE FUNCTION activation_row(p_id bytea)
RETURNS TABLE (act_id bytea, flow text, start_key text, args bytea, state smallint, outcome bytea, created_gen bigint, gen bigint, failure bytea,
	created_ns bigint, state_ns bigint, finished_ns bigint, last_at bigint, last_gen bigint, parent bytea, run integer, run_args bytea)
LANGUAGE sql STABLE AS $$
	SELECT a.id, a.flow, a.start_key, a.args, a.state, a.outcome, a.created_gen, a.gen, a.failure,
		a.created_ns, a.state_ns, a.finished_ns,
		(SELECT e.at_ns FROM entries e WHERE e.act = a.id ORDER BY e.step DESC LIMIT 1),
		(SELECT e.gen FROM entries e WHERE e.act = a.id ORDER BY e.step DESC LIMIT 1),
		a.parent, a.run, a.run_args
	FROM activations a WHERE a.id = p_id
$$;

-- create_activation, as schema 6 has it, answering with the run.
CREATE FUNCTION create_activation(p_id bytea, p_flow text, p_key text, p_args bytea, p_outcome bytea, p_gen bigint, p_at bigint, p_parent bytea,
	p_member bigint, p_epoch bigint)
RETURNS TABLE (act_id bytea, flow text, start_key text, args bytea, state smallint, outcome bytea, created_gen bigint, gen bigint, failure bytea,
	created_ns bigint, state_ns bigint, finished_ns bigint, last_at bigint, last_gen bigint, parent bytea, run integer, run_args bytea)
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO activations AS a (id, flow, start_key, args, state, outcome, created_gen, gen, created_ns, state_ns, parent, owner, owner_epoch)
		VALUES (p_id, p_flow, p_key, p_args, 1, p_outcome, p_gen, p_gen, p_at, p_at, p_parent, p_member, p_epoch)
		ON CONFLICT (id) DO NOTHING;
	IF FOUND THEN
		INSERT INTO vows (id, kind, state, gen) VALUES (p_outcome, 1, 0, p_gen);
		RETURN;
	END IF;
	RETURN QUERY SELECT * FROM activation_row(p_id);
END $$;

-- continue_activation is a Continue: the next run, with new arguments, an
-- empty log, no waits and no waiting receivers; the builds that failed the
-- run before are forgotten, and the owner stays. run is the new run's
-- number; continued is false if the activation is done or missing, or if
-- one of p_receivers took a message (unread is its position, from 0). The
-- activation's row is locked first, as send_message locks it, so no message
-- is taken between the look at the receivers and their deletion.
CREATE FUNCTION continue_activation(p_act bytea, p_args bytea, p_gen bigint, p_at bigint, p_receivers bytea[],
	p_member bigint, p_epoch bigint,
	OUT continued boolean, OUT run integer, OUT unread integer)
LANGUAGE plpgsql AS $$
DECLARE
	i int;
	why text;
BEGIN
	continued := false;
	run := 0;
	unread := -1;
	PERFORM 1 FROM activations a WHERE a.id = p_act FOR UPDATE;
	why := may_write(p_act, p_member, p_epoch);
	IF why = 'fenced' THEN
		PERFORM not_yours(p_act, why);
	END IF;
	IF why <> 'ok' THEN
		RETURN;
	END IF;
	FOR i IN 1 .. coalesce(array_length(p_receivers, 1), 0) LOOP
		IF EXISTS (SELECT 1 FROM vows v WHERE v.id = p_receivers[i] AND v.state <> 0) THEN
			unread := i - 1;
			RETURN;
		END IF;
	END LOOP;
	UPDATE activations a SET run_args = p_args, run = a.run + 1, failure = NULL, gen = p_gen,
		state_ns = CASE WHEN a.state = 1 THEN a.state_ns ELSE p_at END, state = 1
		WHERE a.id = p_act
		RETURNING a.run INTO run;
	continued := true;
	DELETE FROM entries WHERE act = p_act;
	DELETE FROM waits WHERE act = p_act;
	DELETE FROM receivers WHERE act = p_act;
	DELETE FROM failures WHERE act = p_act;
END $$;
