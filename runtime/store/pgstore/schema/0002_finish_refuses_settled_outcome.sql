-- Schema 2: finishing an activation whose outcome vow is settled already is
-- an internal error, never a silent overwrite: finish raises, and its
-- transaction has no effect. The codes are the store's own: AF001 for a
-- settled outcome (the submission is refused), AF002 for a missing one (the
-- store is damaged).
CREATE OR REPLACE FUNCTION finish(p_act bytea, p_state smallint, p_payload bytea, p_gen bigint,
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
