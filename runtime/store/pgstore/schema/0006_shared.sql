-- Schema 6: several processes share one store.
--
-- Each store handle (one per process) is a member with a lease that it
-- renews. An unfinished activation is run by at most one member: its owner,
-- recorded with the member's epoch at the time it took it. Fencing a member
-- bumps its epoch: every ownership it held is void, and its transactions
-- fail, because each one that writes about activations first locks its own
-- member row (FOR KEY SHARE) and checks its epoch. A takeover locks that row
-- FOR UPDATE before it bumps the epoch, so it waits for the member's
-- transaction in flight, and whatever comes after sees the member fenced.
-- Renewing the lease is a plain update, which the member's own key-share
-- locks do not hold up.
--
-- Errors raised here: AF101 the writing member is fenced; AF102 the
-- activation belongs to another member (or is done); AF103 no such
-- activation.

CREATE TABLE members (
	id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	epoch      bigint      NOT NULL DEFAULT 1,
	lapsed     boolean     NOT NULL DEFAULT false, -- fenced after its lease lapsed, not yet renewed
	expires_at timestamptz NOT NULL,
	left_at    timestamptz,                        -- closed
	build      text        NOT NULL DEFAULT '',
	pid        int         NOT NULL,
	host       text        NOT NULL DEFAULT '',
	started_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE activations ADD COLUMN owner bigint, ADD COLUMN owner_epoch bigint;
CREATE INDEX activations_owner ON activations (owner) WHERE owner IS NOT NULL;

-- Builds that failed to run an activation: they leave it to others.
CREATE TABLE failures (
	act   bytea  NOT NULL,
	build text   NOT NULL,
	gen   bigint NOT NULL,
	PRIMARY KEY (act, build)
);

-- fence locks the member's row, so that a takeover waits for this
-- transaction, and fails unless the member is at p_epoch.
CREATE FUNCTION fence(p_member bigint, p_epoch bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM 1 FROM members WHERE id = p_member AND epoch = p_epoch AND left_at IS NULL FOR KEY SHARE;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'AF101', MESSAGE = 'store member ' || p_member || ' was fenced: its lease lapsed and was taken over';
	END IF;
END $$;

-- may_write says whether member p_member at p_epoch may write about an
-- activation: 'ok' (it owns it, or nobody does), 'fenced', 'done', 'missing'.
CREATE FUNCTION may_write(p_act bytea, p_member bigint, p_epoch bigint) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT CASE
		WHEN a.id IS NULL THEN 'missing'
		WHEN a.state = 4 THEN 'done'
		WHEN a.owner IS NULL OR (a.owner = p_member AND a.owner_epoch = p_epoch) THEN 'ok'
		ELSE 'fenced' END
	FROM (SELECT 1) one LEFT JOIN activations a ON a.id = p_act
$$;

CREATE FUNCTION not_yours(p_act bytea, why text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION USING ERRCODE = 'AF102', MESSAGE = 'activation ' || encode(p_act, 'hex') || ' is ' ||
		CASE why WHEN 'done' THEN 'done' ELSE 'owned by another process' END;
END $$;

-- append_entries writes log entries, all of activations the member may
-- write about.
CREATE FUNCTION append_entries(p_member bigint, p_epoch bigint, p_acts bytea[], p_steps bigint[], p_kinds int[], p_gens bigint[], p_ats bigint[], p_payloads bytea[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	bad record;
BEGIN
	SELECT u.act, may_write(u.act, p_member, p_epoch) AS why INTO bad
		FROM (SELECT DISTINCT x AS act FROM unnest(p_acts) x) u
		WHERE may_write(u.act, p_member, p_epoch) <> 'ok' LIMIT 1;
	IF FOUND THEN
		IF bad.why = 'missing' THEN
			RAISE EXCEPTION USING ERRCODE = 'AF103', MESSAGE = 'no activation ' || encode(bad.act, 'hex');
		END IF;
		PERFORM not_yours(bad.act, bad.why);
	END IF;
	INSERT INTO entries (act, step, kind, gen, at_ns, payload)
		SELECT * FROM unnest(p_acts, p_steps, p_kinds, p_gens, p_ats, p_payloads);
END $$;

DROP FUNCTION create_activation(bytea, text, text, bytea, bytea, bigint, bigint, bytea);
CREATE FUNCTION create_activation(p_id bytea, p_flow text, p_key text, p_args bytea, p_outcome bytea, p_gen bigint, p_at bigint, p_parent bytea,
	p_member bigint, p_epoch bigint)
RETURNS TABLE (act_id bytea, flow text, start_key text, args bytea, state smallint, outcome bytea, created_gen bigint, gen bigint, failure bytea,
	created_ns bigint, state_ns bigint, finished_ns bigint, last_at bigint, last_gen bigint, parent bytea)
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

-- notify_settled tells the other members a vow settled, and which of its
-- waiters each of them owns: on the channel named after the schema, as
-- "settler vow [waiter:owner]...", in messages of at most 100 waiters.
CREATE FUNCTION notify_settled(p_member bigint, p_vow bytea, p_waiters bytea[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	head text := p_member || ' ' || encode(p_vow, 'hex');
	msg text := head;
	n int := 0;
	sent boolean := false;
	r record;
BEGIN
	IF p_waiters IS NOT NULL THEN
		FOR r IN SELECT a.id, a.owner FROM activations a JOIN members m ON m.id = a.owner
				WHERE a.id = ANY (p_waiters) AND m.epoch = a.owner_epoch AND m.left_at IS NULL AND a.owner <> p_member LOOP
			msg := msg || ' ' || encode(r.id, 'hex') || ':' || r.owner;
			n := n + 1;
			IF n = 100 THEN
				PERFORM pg_notify(current_schema(), msg);
				msg := head;
				n := 0;
				sent := true;
			END IF;
		END LOOP;
	END IF;
	IF n > 0 OR NOT sent THEN
		PERFORM pg_notify(current_schema(), msg);
	END IF;
END $$;

-- settle and what calls it learn who settles, to tell the others.
DROP FUNCTION send_message(bytea, text, text, text, bytea, bigint, bigint);
DROP FUNCTION receive(bytea, text, bytea, bigint);
DROP FUNCTION settle_vow(bytea, smallint, bytea, bigint, bigint, boolean);
DROP FUNCTION settle_timers(bytea[], bytea[], bigint, bigint);
DROP FUNCTION finish(bytea, smallint, bytea, bigint, bigint, boolean);
DROP FUNCTION settle(bytea, smallint, bytea, bigint, bigint);
CREATE FUNCTION settle(p_id bytea, p_state smallint, p_payload bytea, p_gen bigint, p_at bigint, p_member bigint,
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
	PERFORM notify_settled(p_member, p_id, waiters);
END $$;

CREATE FUNCTION settle_vow(p_id bytea, p_state smallint, p_payload bytea, p_gen bigint, p_at bigint, p_host_only boolean, p_member bigint,
	OUT settled boolean, OUT missing boolean, OUT kind smallint, OUT waiters bytea[])
LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	SELECT v.kind INTO kind FROM vows v WHERE v.id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		settled := false;
		missing := true;
		kind := 0;
		RETURN;
	END IF;
	IF p_host_only AND kind <> 0 THEN
		settled := false;
		missing := false;
		RETURN;
	END IF;
	SELECT * INTO r FROM settle(p_id, p_state, p_payload, p_gen, p_at, p_member);
	settled := r.settled;
	missing := r.missing;
	waiters := r.waiters;
END $$;

DROP FUNCTION watch(bytea, bytea[], boolean, bigint, bigint);
CREATE FUNCTION watch(p_act bytea, p_vows bytea[], p_suspend boolean, p_gen bigint, p_at bigint, p_member bigint, p_epoch bigint,
	OUT idx int, OUT missing int, OUT vstate smallint, OUT vpayload bytea, OUT vgen bigint)
LANGUAGE plpgsql AS $$
DECLARE
	i int;
	s smallint;
	p bytea;
	g bigint;
	why text := may_write(p_act, p_member, p_epoch);
BEGIN
	IF why IN ('fenced', 'done') THEN
		PERFORM not_yours(p_act, why);
	END IF;
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

-- set_state changes an activation's state. A failure is recorded for the
-- build that failed, which leaves the activation to other builds.
CREATE FUNCTION set_state(p_act bytea, p_state smallint, p_failure bytea, p_gen bigint, p_at bigint, p_member bigint, p_epoch bigint, p_build text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	why text := may_write(p_act, p_member, p_epoch);
BEGIN
	IF why = 'missing' THEN
		RETURN;
	END IF;
	IF why <> 'ok' THEN
		PERFORM not_yours(p_act, why);
	END IF;
	UPDATE activations SET state_ns = CASE WHEN state = p_state THEN state_ns ELSE p_at END,
		state = p_state, failure = p_failure, gen = p_gen WHERE id = p_act;
	IF p_state = 3 THEN
		INSERT INTO failures (act, build, gen) VALUES (p_act, p_build, p_gen)
			ON CONFLICT (act, build) DO UPDATE SET gen = excluded.gen;
	END IF;
END $$;

-- finish also releases the activation and forgets the builds that failed
-- it.
CREATE FUNCTION finish(p_act bytea, p_state smallint, p_payload bytea, p_gen bigint, p_at bigint, p_keep_log boolean,
	p_member bigint, p_epoch bigint,
	OUT finished boolean, OUT outcome bytea, OUT waiters bytea[])
LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	IF may_write(p_act, p_member, p_epoch) = 'fenced' THEN
		PERFORM not_yours(p_act, 'fenced');
	END IF;
	UPDATE activations a SET state = 4, failure = NULL, gen = p_gen, state_ns = p_at, finished_ns = p_at,
			owner = NULL, owner_epoch = NULL
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
	DELETE FROM failures WHERE act = p_act;
	SELECT * INTO r FROM settle(outcome, p_state, p_payload, p_gen, p_at, p_member);
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

CREATE FUNCTION settle_timers(p_vows bytea[], p_payloads bytea[], p_gen bigint, p_at bigint, p_member bigint)
RETURNS TABLE (ord int, settled boolean, waiters bytea[])
LANGUAGE plpgsql AS $$
DECLARE
	i int;
	r record;
BEGIN
	FOR i IN 1 .. coalesce(array_length(p_vows, 1), 0) LOOP
		SELECT * INTO r FROM settle(p_vows[i], 1::smallint, p_payloads[i], p_gen, p_at, p_member);
		ord := i - 1;
		settled := r.settled;
		waiters := r.waiters;
		RETURN NEXT;
	END LOOP;
END $$;

-- send_message and receive, as schema 5 has them, settling through settle
-- with the member that settles.
CREATE FUNCTION send_message(p_act bytea, p_flow text, p_name text, p_key text, p_payload bytea, p_gen bigint, p_at bigint, p_member bigint,
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
		SELECT * INTO r FROM settle(rcv.vow, 1::smallint, p_payload, p_gen, p_at, p_member);
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

CREATE FUNCTION receive(p_act bytea, p_name text, p_vow bytea, p_gen bigint, p_member bigint,
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
	SELECT * INTO r FROM settle(p_vow, 1::smallint, m.payload, p_gen, 0, p_member); -- a new vow: no one waits
	delivered := true;
	seq := m.seq;
END $$;

-- claim makes the member the owner of an unfinished activation, fencing
-- its owner first if that one's lease lapsed. It answers 'mine', 'owned'
-- (a live member owns it), 'done', 'missing', or 'failed' (this build
-- failed it; p_retry forgets that and claims it). A live owner's row is
-- only read; the row of one whose lease lapsed is locked before the
-- activation's, in the order a member's own transactions lock them.
CREATE FUNCTION claim(p_act bytea, p_member bigint, p_epoch bigint, p_build text, p_retry boolean) RETURNS text
LANGUAGE plpgsql SET lock_timeout = '5s' AS $$
DECLARE
	a record;
	b record;
	m record;
BEGIN
	PERFORM fence(p_member, p_epoch);
	SELECT x.state, x.owner, x.owner_epoch INTO a FROM activations x WHERE x.id = p_act;
	IF NOT FOUND THEN
		RETURN 'missing';
	END IF;
	IF a.state = 4 THEN
		RETURN 'done';
	END IF;
	IF a.owner = p_member AND a.owner_epoch = p_epoch THEN
		RETURN 'mine';
	END IF;
	IF a.owner IS NOT NULL AND a.owner <> p_member THEN
		SELECT y.epoch, y.expires_at, y.left_at INTO m FROM members y WHERE y.id = a.owner;
		IF FOUND AND m.epoch = a.owner_epoch AND m.left_at IS NULL THEN
			IF m.expires_at > now() THEN
				RETURN 'owned';
			END IF;
			-- Its lease lapsed: fence it, once its transaction in flight is
			-- done.
			SELECT y.epoch, y.expires_at, y.left_at INTO m FROM members y WHERE y.id = a.owner FOR UPDATE;
			IF m.epoch = a.owner_epoch AND m.left_at IS NULL THEN
				IF m.expires_at > now() THEN
					RETURN 'owned';
				END IF;
				UPDATE members SET epoch = epoch + 1, lapsed = true WHERE id = a.owner;
			END IF;
		END IF;
	END IF;
	SELECT x.state, x.owner, x.owner_epoch INTO b FROM activations x WHERE x.id = p_act FOR UPDATE;
	IF b.state = 4 THEN
		RETURN 'done';
	END IF;
	IF b.owner IS DISTINCT FROM a.owner OR b.owner_epoch IS DISTINCT FROM a.owner_epoch THEN
		RETURN 'owned'; -- another claim came first
	END IF;
	IF p_retry THEN
		DELETE FROM failures WHERE act = p_act AND build = p_build;
	ELSIF EXISTS (SELECT 1 FROM failures WHERE act = p_act AND build = p_build) THEN
		RETURN 'failed';
	END IF;
	UPDATE activations SET owner = p_member, owner_epoch = p_epoch WHERE id = p_act;
	RETURN 'mine';
END $$;

-- reap fences the members whose lease lapsed. A member whose row is locked
-- has a transaction on its way: it is skipped, and returned in stuck if its
-- lease lapsed more than p_grace_ms ago, so that its sessions can be ended.
-- Members gone for a day that own nothing are deleted.
CREATE FUNCTION reap(p_grace_ms bigint, OUT fenced int, OUT stuck bigint[])
LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	fenced := 0;
	FOR r IN SELECT id FROM members WHERE left_at IS NULL AND NOT lapsed AND expires_at < now() FOR UPDATE SKIP LOCKED LOOP
		UPDATE members SET epoch = epoch + 1, lapsed = true WHERE id = r.id;
		fenced := fenced + 1;
	END LOOP;
	SELECT array_agg(id) INTO stuck FROM members
		WHERE left_at IS NULL AND NOT lapsed AND expires_at < now() - p_grace_ms * interval '1 millisecond';
	DELETE FROM members m
		WHERE (m.left_at < now() - interval '1 day' OR (m.lapsed AND m.expires_at < now() - interval '1 day'))
		AND NOT EXISTS (SELECT 1 FROM activations a WHERE a.owner = m.id);
END $$;

-- adopt claims running and failed activations of the given flows that no
-- live member owns and that this build has not failed.
CREATE FUNCTION adopt(p_member bigint, p_epoch bigint, p_build text, p_flows text[], p_limit int)
RETURNS TABLE (act bytea, flow text, state smallint)
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM fence(p_member, p_epoch);
	RETURN QUERY
	WITH c AS (
		SELECT a.id FROM activations a LEFT JOIN members m ON m.id = a.owner
		WHERE a.state IN (1, 3) AND a.flow = ANY (p_flows)
			AND (a.owner IS NULL OR m.id IS NULL OR m.epoch <> a.owner_epoch OR m.left_at IS NOT NULL)
			AND NOT EXISTS (SELECT 1 FROM failures f WHERE f.act = a.id AND f.build = p_build)
		LIMIT p_limit
		FOR UPDATE OF a SKIP LOCKED)
	UPDATE activations a SET owner = p_member, owner_epoch = p_epoch FROM c WHERE a.id = c.id
	RETURNING a.id, a.flow, a.state;
END $$;
