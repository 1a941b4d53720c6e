-- Balance holds: admission control that cannot be raced, across any number of gateway processes.
-- Both functions lock balance rows before api_keys rows, the same order as the usage writer, so they cannot deadlock.

-- Start of the spend-limit period containing p_at, in UTC (ISO weeks start on Monday); null for a limit that never
-- resets. Holds and settlements both use it, so they agree on which period a call counts in.
CREATE FUNCTION key_period_start(p_reset key_limit_reset, p_at timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT CASE p_reset
    WHEN 'daily' THEN date_trunc('day', p_at, 'UTC')
    WHEN 'weekly' THEN date_trunc('week', p_at, 'UTC')
    WHEN 'monthly' THEN date_trunc('month', p_at, 'UTC')
  END
$$;
--> statement-breakpoint

-- Reserves p_amount (the worst-case cost of one call) against the user's balance and, when the call has a key,
-- against the key's spend limit, in one round trip. Admitted only if balance − held ≥ p_amount and the key's
-- period spend + held + p_amount ≤ its limit. The period (UTC day, ISO week, month) is derived from p_now so that
-- callers control time; a key whose period ended starts the new one at zero.
CREATE FUNCTION place_balance_hold(
  p_hold_id text,
  p_user_id text,
  p_api_key_id uuid,
  p_amount bigint,
  p_now timestamptz,
  p_expires_at timestamptz
) RETURNS TABLE (
  outcome text,
  available_nano bigint,
  key_limit_nano bigint,
  key_spent_nano bigint,
  key_period_start timestamptz,
  key_limit_reset text
)
LANGUAGE plpgsql AS $$
DECLARE
  v_available bigint;
  v_key api_keys%ROWTYPE;
  v_period timestamptz;
  v_spent bigint;
  v_held_key uuid;
BEGIN
  UPDATE balances SET held_nano = held_nano + p_amount
  WHERE user_id = p_user_id AND balance_nano - held_nano >= p_amount
  RETURNING balance_nano - held_nano INTO v_available;
  IF NOT FOUND THEN
    SELECT b.balance_nano - b.held_nano INTO v_available FROM balances b WHERE b.user_id = p_user_id;
    RETURN QUERY SELECT 'insufficient_credits'::text, coalesce(v_available, 0), NULL::bigint, NULL::bigint, NULL::timestamptz, NULL::text;
    RETURN;
  END IF;

  IF p_api_key_id IS NOT NULL THEN
    SELECT * INTO v_key FROM api_keys WHERE id = p_api_key_id;
    IF NOT FOUND OR v_key.revoked_at IS NOT NULL OR v_key.disabled_at IS NOT NULL
       OR (v_key.expires_at IS NOT NULL AND v_key.expires_at <= p_now) THEN
      UPDATE balances SET held_nano = held_nano - p_amount WHERE user_id = p_user_id;
      RETURN QUERY SELECT 'key_inactive'::text, v_available + p_amount, NULL::bigint, NULL::bigint, NULL::timestamptz, NULL::text;
      RETURN;
    END IF;
  END IF;

  -- Only a key with a limit carries holds of its own: the others need no row lock or update per call. (A call admitted
  -- before its key got a limit counts against it once it settles.)
  IF v_key.spend_limit_nano IS NOT NULL THEN
    -- NO KEY UPDATE: does not wait for usage batches whose new generation rows reference this key (FOR KEY SHARE).
    SELECT * INTO v_key FROM api_keys WHERE id = p_api_key_id FOR NO KEY UPDATE;
    v_period := key_period_start(v_key.limit_reset, p_now);
    v_spent := CASE WHEN v_key.period_started_at IS DISTINCT FROM v_period THEN 0 ELSE v_key.period_spend_nano END;
    IF v_key.spend_limit_nano IS NOT NULL AND v_spent + v_key.held_nano + p_amount > v_key.spend_limit_nano THEN
      UPDATE balances SET held_nano = held_nano - p_amount WHERE user_id = p_user_id;
      RETURN QUERY SELECT 'key_limit_exceeded'::text, v_available + p_amount, v_key.spend_limit_nano,
        v_spent + v_key.held_nano, v_period, v_key.limit_reset::text;
      RETURN;
    END IF;
    UPDATE api_keys SET period_spend_nano = v_spent, period_started_at = v_period, held_nano = held_nano + p_amount
    WHERE id = p_api_key_id;
    v_held_key := p_api_key_id;
  END IF;

  INSERT INTO balance_holds (id, user_id, api_key_id, amount_nano, created_at, expires_at)
  VALUES (p_hold_id, p_user_id, v_held_key, p_amount, p_now, p_expires_at);
  RETURN QUERY SELECT 'held'::text, v_available, v_key.spend_limit_nano, v_spent, v_period, v_key.limit_reset::text;
END;
$$;
--> statement-breakpoint

-- Releases holds whose call never settled (its process crashed) once they expire. Returns how many were released.
CREATE FUNCTION release_expired_balance_holds(p_now timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  v_released integer;
BEGIN
  PERFORM 1 FROM balances
  WHERE user_id IN (SELECT user_id FROM balance_holds WHERE expires_at <= p_now)
  ORDER BY user_id FOR UPDATE;

  WITH released AS (
    DELETE FROM balance_holds WHERE expires_at <= p_now RETURNING user_id, api_key_id, amount_nano
  ), by_user AS (
    SELECT user_id, sum(amount_nano) AS amount FROM released GROUP BY user_id
  ), by_key AS (
    SELECT api_key_id, sum(amount_nano) AS amount FROM released WHERE api_key_id IS NOT NULL GROUP BY api_key_id
  ), users_updated AS (
    UPDATE balances SET held_nano = balances.held_nano - by_user.amount FROM by_user
    WHERE balances.user_id = by_user.user_id RETURNING 1
  ), keys_updated AS (
    UPDATE api_keys SET held_nano = api_keys.held_nano - by_key.amount FROM by_key
    WHERE api_keys.id = by_key.api_key_id RETURNING 1
  )
  SELECT count(*) INTO v_released FROM released;
  RETURN v_released;
END;
$$;
