-- Schema 8: cancellation requests. A vow of kind 4 is an activation's
-- cancellation: its flow awaits it, and request_cancel, which creates it if
-- the flow has not asked for it yet, fulfils it.

-- request_cancel is a RequestCancel, by member p_member (any member may ask:
-- settle tells the activation's owner). result: 1 requested now, 2
-- requested before, 3 the activation is done, 4 there is no such activation.
CREATE FUNCTION request_cancel(p_act bytea, p_vow bytea, p_payload bytea, p_gen bigint, p_at bigint, p_member bigint,
	OUT result smallint, OUT waiters bytea[])
LANGUAGE plpgsql AS $$
DECLARE
	s smallint;
	r record;
BEGIN
	SELECT a.state INTO s FROM activations a WHERE a.id = p_act FOR UPDATE;
	IF NOT FOUND THEN
		result := 4;
		RETURN;
	END IF;
	IF s = 4 THEN
		result := 3;
		RETURN;
	END IF;
	INSERT INTO vows (id, kind, state, gen) VALUES (p_vow, 4, 0, p_gen) ON CONFLICT (id) DO NOTHING;
	SELECT * INTO r FROM settle(p_vow, 1::smallint, p_payload, p_gen, p_at, p_member);
	IF r.settled THEN
		result := 1;
		waiters := r.waiters;
	ELSE
		result := 2;
	END IF;
END $$;
