import type { Clock } from "../clock";

export interface CircuitBreakerOptions {
  clock: Clock;
  /** Consecutive failures that open a circuit. */
  failureThreshold: number;
  /** First cooldown; each further opening without a success between doubles it, up to `maxCooldownMs`. */
  baseCooldownMs: number;
  maxCooldownMs: number;
}

export interface CircuitBreaker {
  /**
   * Whether a call may go to this channel+model now: yes when closed; when open, no until the cooldown ends, then
   * one probe at a time (half-open) until one succeeds or fails.
   */
  tryAcquire(key: string): boolean;
  /**
   * For a call that would otherwise fail: a probe of an open circuit before its cooldown ends, once the upstream's own
   * `Retry-After` (if it gave one) has passed. Our cooldown is a guess at when a channel recovers; a caller with no
   * other candidate left is better served by asking it than by an error. One probe at a time, as after a cooldown.
   */
  tryAcquireEarly(key: string): boolean;
  /** Gives back a probe slot that was acquired but not used. */
  release(key: string): void;
  recordSuccess(key: string): void;
  /** A failure; when it opens the circuit, an upstream `Retry-After` (ms) makes the cooldown at least that long. */
  recordFailure(key: string, retryAfterMs?: number | null): void;
  /** Milliseconds until the first of these circuits lets a call through again (0 when one already does). */
  msUntilAvailable(keys: readonly string[]): number;
  /** For operators (metrics): closed, open (cooling down), or half-open (a probe may go, or is out). */
  stateOf(key: string): CircuitState;
}

export type CircuitState = "closed" | "open" | "half_open";

interface Circuit {
  consecutiveFailures: number;
  /** How many times it has opened since its last success: the cooldown's exponent. */
  openings: number;
  openUntil: number;
  /** Before this the upstream asked not to be called again (its `Retry-After` with the last failure); 0 if it did not. */
  retryAfterUntil: number;
  probing: boolean;
}

/** The circuit of one channel serving one upstream model. */
export function circuitKey(channelId: string, upstreamModel: string): string {
  return `${channelId}\u0000${upstreamModel}`;
}

/**
 * Per channel+model circuit breaker, in process memory: after `failureThreshold` consecutive failures the circuit
 * opens for a cooldown that doubles with each reopening (and lasts at least as long as the upstream's `Retry-After`);
 * when it ends one probe call is let through, and its success closes the circuit. No operator step is needed after an
 * outage.
 */
export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  const circuits = new Map<string, Circuit>();
  const circuitOf = (key: string): Circuit => {
    let circuit = circuits.get(key);
    if (circuit === undefined) {
      circuit = { consecutiveFailures: 0, openings: 0, openUntil: 0, retryAfterUntil: 0, probing: false };
      circuits.set(key, circuit);
    }
    return circuit;
  };

  return {
    tryAcquire(key) {
      const circuit = circuits.get(key);
      if (circuit === undefined || circuit.openUntil === 0) return true;
      if (options.clock() < circuit.openUntil || circuit.probing) return false;
      circuit.probing = true;
      return true;
    },
    tryAcquireEarly(key) {
      const circuit = circuits.get(key);
      if (circuit === undefined || circuit.openUntil === 0) return true;
      if (circuit.probing || options.clock() < circuit.retryAfterUntil) return false;
      circuit.probing = true;
      return true;
    },
    release(key) {
      const circuit = circuits.get(key);
      if (circuit !== undefined) circuit.probing = false;
    },
    recordSuccess(key) {
      circuits.delete(key);
    },
    recordFailure(key, retryAfterMs) {
      const circuit = circuitOf(key);
      circuit.consecutiveFailures += 1;
      circuit.probing = false;
      // A later failure without a Retry-After (a timeout of a call already in flight) does not cancel the ask.
      if (retryAfterMs != null)
        circuit.retryAfterUntil = Math.max(circuit.retryAfterUntil, options.clock() + retryAfterMs);
      // A failed probe reopens at once; otherwise the threshold decides.
      if (circuit.openUntil === 0 && circuit.consecutiveFailures < options.failureThreshold) return;
      const cooldown = Math.min(options.maxCooldownMs, options.baseCooldownMs * 2 ** circuit.openings);
      circuit.openings += 1;
      // An upstream that said when to come back is not asked sooner.
      circuit.openUntil = Math.max(options.clock() + cooldown, circuit.retryAfterUntil);
    },
    msUntilAvailable(keys) {
      const now = options.clock();
      let soonest = Number.POSITIVE_INFINITY;
      for (const key of keys) {
        const circuit = circuits.get(key);
        soonest = Math.min(soonest, circuit === undefined ? 0 : Math.max(0, circuit.openUntil - now));
      }
      return soonest === Number.POSITIVE_INFINITY ? 0 : soonest;
    },
    stateOf(key) {
      const circuit = circuits.get(key);
      if (circuit === undefined || circuit.openUntil === 0) return "closed";
      return options.clock() < circuit.openUntil && !circuit.probing ? "open" : "half_open";
    },
  };
}
