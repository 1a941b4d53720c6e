-- Balance leases: a gateway process on PostgreSQL reserves a slice of an account's available balance at once and
-- admits that account's calls against the slice in memory, instead of one hold statement per call. A lease is a
-- balance_holds row whose id starts with 'lease:' (ordinary holds are named after their generation, 'gen-…'): it counts
-- in balances.held_nano like any hold, expires like any hold (release_expired_balance_holds returns the lease of a
-- process that died), and its process renews it while it lives. Calls admitted under a lease have no rows of their
-- own: the usage writer takes each call's cost out of the lease in the transaction that debits it (take_from_balance_leases).
-- Every function locks the balance row before the hold row: the order of place_balance_hold and the usage writer.

-- Grows (or opens) a lease by at least p_min and by up to p_want, never by more than the larger of p_min and
-- p_share_per_mille thousandths of what is available, so one process does not take what the others need. Grants
-- nothing when less than p_min is available. Answers what was granted, the lease after it, what is still available,
-- and what the account's other leases hold (a process refused for lack of credit asks them to give back their slack).
CREATE FUNCTION lease_balance(
  p_lease_id text,
  p_user_id text,
  p_min bigint,
  p_want bigint,
  p_share_per_mille integer,
  p_now timestamptz,
  p_expires_at timestamptz
) RETURNS TABLE (granted_nano bigint, lease_nano bigint, available_nano bigint, others_leased_nano bigint)
LANGUAGE plpgsql AS $$
DECLARE
  v_available bigint;
  v_grant bigint := 0;
  v_lease bigint;
  v_others bigint;
BEGIN
  SELECT b.balance_nano - b.held_nano INTO v_available FROM balances b WHERE b.user_id = p_user_id FOR UPDATE;
  v_available := coalesce(v_available, 0);
  IF v_available >= p_min THEN
    v_grant := least(v_available, greatest(p_min, least(p_want, v_available * p_share_per_mille / 1000)));
  END IF;
  IF v_grant > 0 THEN
    UPDATE balances SET held_nano = held_nano + v_grant WHERE user_id = p_user_id;
    INSERT INTO balance_holds (id, user_id, api_key_id, amount_nano, created_at, expires_at)
    VALUES (p_lease_id, p_user_id, NULL, v_grant, p_now, p_expires_at)
    ON CONFLICT (id) DO UPDATE SET amount_nano = balance_holds.amount_nano + v_grant, expires_at = p_expires_at;
    v_available := v_available - v_grant;
  END IF;
  SELECT h.amount_nano INTO v_lease FROM balance_holds h WHERE h.id = p_lease_id;
  SELECT coalesce(sum(h.amount_nano), 0) INTO v_others FROM balance_holds h
  WHERE h.user_id = p_user_id AND h.id LIKE 'lease:%' AND h.id <> p_lease_id;
  RETURN QUERY SELECT v_grant, coalesce(v_lease, 0::bigint), v_available, v_others;
END;
$$;
--> statement-breakpoint

-- Gives back up to p_amount of a lease (all of it deletes the row). Answers how much was given back: less than asked
-- when the lease holds less, nothing when it is gone (expired and released).
CREATE FUNCTION return_balance_lease(p_lease_id text, p_amount bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  v_user_id text;
  v_amount bigint;
  v_returned bigint;
BEGIN
  SELECT user_id INTO v_user_id FROM balance_holds WHERE id = p_lease_id;
  IF NOT FOUND THEN
    RETURN 0;
  END IF;
  PERFORM 1 FROM balances WHERE user_id = v_user_id FOR UPDATE;
  SELECT amount_nano INTO v_amount FROM balance_holds WHERE id = p_lease_id FOR UPDATE;
  IF NOT FOUND THEN
    RETURN 0;
  END IF;
  v_returned := least(v_amount, greatest(p_amount, 0));
  IF v_returned = v_amount THEN
    DELETE FROM balance_holds WHERE id = p_lease_id;
  ELSE
    UPDATE balance_holds SET amount_nano = amount_nano - v_returned WHERE id = p_lease_id;
  END IF;
  UPDATE balances SET held_nano = held_nano - v_returned WHERE user_id = v_user_id;
  RETURN v_returned;
END;
$$;
--> statement-breakpoint

-- The usage writer's share: the costs of calls admitted under leases, [{lease_id, cost}], taken out of their leases
-- (and so out of balances.held_nano) in the transaction that debits them, which has locked the balance rows already.
-- A lease holds at least the costs of its calls; one that expired meanwhile was released whole, and gives nothing.
CREATE FUNCTION take_from_balance_leases(p_costs jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  WITH costs AS (
    SELECT lease_id, sum(cost) AS cost FROM jsonb_to_recordset(p_costs) AS c(lease_id text, cost bigint)
    GROUP BY lease_id
  ), old AS (
    SELECT h.id, h.user_id, h.amount_nano, least(h.amount_nano, costs.cost) AS taken
    FROM balance_holds h JOIN costs ON costs.lease_id = h.id
    ORDER BY h.id FOR UPDATE OF h
  ), taken AS (
    UPDATE balance_holds SET amount_nano = old.amount_nano - old.taken
    FROM old WHERE balance_holds.id = old.id
    RETURNING old.user_id, old.taken
  ), by_user AS (
    SELECT user_id, sum(taken) AS taken FROM taken GROUP BY user_id
  )
  UPDATE balances SET held_nano = balances.held_nano - by_user.taken
  FROM by_user WHERE balances.user_id = by_user.user_id;
END;
$$;
