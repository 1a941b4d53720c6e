-- Settling a hold when its call ends, before the client has the whole answer: the hold shrinks to what the call
-- actually cost, so the next call of a client that waits for each answer is admitted against that, not against the
-- worst case of calls already answered. The usage writer's batch later deletes the hold (releasing what is left of it)
-- in the same transaction as the debit, so balance − held never counts a call twice or not at all.
-- Locks the balance row before the hold and api_keys rows: the same order as place_balance_hold and the usage writer.
-- A hold already released (its batch was written first, or it expired) is left alone; a hold never grows here.
CREATE FUNCTION settle_balance_hold(p_hold_id text, p_cost bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_user_id text;
  v_api_key_id uuid;
  v_released bigint;
BEGIN
  -- Read first without a lock: a hold never grows, so one already at or below the cost has nothing to release, and
  -- the balance row is not locked for nothing.
  SELECT user_id INTO v_user_id FROM balance_holds WHERE id = p_hold_id AND amount_nano > greatest(p_cost, 0);
  IF NOT FOUND THEN
    RETURN;
  END IF;
  PERFORM 1 FROM balances WHERE user_id = v_user_id FOR UPDATE;

  WITH old AS (
    SELECT id, amount_nano FROM balance_holds WHERE id = p_hold_id AND amount_nano > greatest(p_cost, 0) FOR UPDATE
  )
  UPDATE balance_holds SET amount_nano = greatest(p_cost, 0)
  FROM old WHERE balance_holds.id = old.id
  RETURNING old.amount_nano - balance_holds.amount_nano, balance_holds.api_key_id INTO v_released, v_api_key_id;
  IF v_released IS NULL THEN
    RETURN;
  END IF;

  UPDATE balances SET held_nano = held_nano - v_released WHERE user_id = v_user_id;
  IF v_api_key_id IS NOT NULL THEN
    UPDATE api_keys SET held_nano = held_nano - v_released WHERE id = v_api_key_id;
  END IF;
END;
$$;
