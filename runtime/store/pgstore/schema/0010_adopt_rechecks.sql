-- Schema 10: adopt looks again, with the rows it picked locked, at whether
-- they are still free and not failed by this build. Picking and locking in
-- one statement judged a row by the statement's snapshot: a row another
-- process adopted, failed for this build and released while the statement
-- waited was re-read only for its own columns, not for the failure, and was
-- adopted and replayed again by the same build. The second statement's
-- snapshot is taken with the locks held, so it sees every commit made
-- before them.
CREATE OR REPLACE FUNCTION adopt(p_member bigint, p_epoch bigint, p_build text, p_flows text[], p_limit int)
RETURNS TABLE (act bytea, flow text, state smallint)
LANGUAGE plpgsql AS $$
DECLARE
	picked bytea[];
BEGIN
	PERFORM fence(p_member, p_epoch);
	SELECT array_agg(c.id) INTO picked FROM (
		SELECT a.id FROM activations a LEFT JOIN members m ON m.id = a.owner
		WHERE a.state IN (1, 3) AND a.flow = ANY (p_flows)
			AND (a.owner IS NULL OR m.id IS NULL OR m.epoch <> a.owner_epoch OR m.left_at IS NOT NULL)
			AND NOT EXISTS (SELECT 1 FROM failures f WHERE f.act = a.id AND f.build = p_build)
		LIMIT p_limit
		FOR UPDATE OF a SKIP LOCKED) c;
	IF picked IS NULL THEN
		RETURN;
	END IF;
	RETURN QUERY
	UPDATE activations a SET owner = p_member, owner_epoch = p_epoch
	WHERE a.id = ANY (picked) AND a.state IN (1, 3)
		AND (a.owner IS NULL OR NOT EXISTS (
			SELECT 1 FROM members m WHERE m.id = a.owner AND m.epoch = a.owner_epoch AND m.left_at IS NULL))
		AND NOT EXISTS (SELECT 1 FROM failures f WHERE f.act = a.id AND f.build = p_build)
	RETURNING a.id, a.flow, a.state;
END $$;
