import type { Metered } from "../billing/meter-call";
import type { GenerationRow } from "../billing/usage-writer";
import type { GatewayError } from "../errors";
import type { Principal } from "../keys/api-key-authenticator";
import type { TraceContext } from "./trace-context";
import type { GenerationAttempt } from "~/server/db/schema";

/** One /v1 request as operators see it (its log line, its metrics), filled in as it goes. */
export interface RequestRecord {
  /** Sent back as `x-request-id` and stored on the generation. */
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  /** The route (`/v1/models/{id}`, `other` for an unknown path): a metric label of bounded variety. */
  readonly endpoint: string;
  /** Gateway clock when the request arrived. */
  readonly startedAt: number;
  /** The connection's peer (a proxy's address behind one). */
  readonly clientAddress: string | null;
  /** What a proxy in front says the client was; not trusted for anything, only logged. */
  readonly forwardedFor: string | null;
  readonly userAgent: string | null;
  readonly trace: TraceContext | null;
  /** Set once the key is known. */
  principal: Principal | null;
  /**
   * Set when a call is admitted (it holds part of a balance): its settlement, which every admitted call gets exactly
   * once, then ends the request in the log and the metrics, at a stream's last byte rather than at its headers.
   */
  callAdmitted: boolean;
}

/** An admitted call at its settlement. */
export interface SettledCall {
  generation: GenerationRow;
  metered: Metered;
  /** What the call's hold reserved (released by the settlement). */
  holdNano: bigint;
  channelName: string;
  /** Every failover attempt in order; empty for a fanned-out `n`, whose copies all go to the generation's channel. */
  attempts: readonly GenerationAttempt[];
}

/**
 * Told how every /v1 request ends: the seam for the request log and the metrics. Calls must be cheap and must not
 * throw: they run on the hot path, after the answer is decided.
 */
export interface RequestObserver {
  /** A call was admitted, holding `holdNano` of its account's balance until it settles. */
  callAdmitted(holdNano: bigint): void;
  /** An admitted call settled: the request is over. */
  callSettled(record: RequestRecord, call: SettledCall): void;
  /** A request that made no call (a read, or refused before admission) was answered. */
  requestAnswered(record: RequestRecord, status: number, error: GatewayError | null): void;
}

export const NULL_REQUEST_OBSERVER: RequestObserver = {
  callAdmitted() {},
  callSettled() {},
  requestAnswered() {},
};

/**
 * Several observers as one (the request log and the metrics), each told in turn. An observer that throws is reported
 * to `onError` (once: a broken observer would otherwise log on every request) and never fails the request.
 */
export function combineObservers(
  observers: readonly RequestObserver[],
  onError: (error: unknown) => void,
): RequestObserver {
  if (observers.length === 0) return NULL_REQUEST_OBSERVER;
  let reported = false;
  const report = (error: unknown) => {
    if (reported) return;
    reported = true;
    onError(error);
  };
  return {
    callAdmitted(holdNano) {
      for (const observer of observers) {
        try {
          observer.callAdmitted(holdNano);
        } catch (error) {
          report(error);
        }
      }
    },
    callSettled(record, call) {
      for (const observer of observers) {
        try {
          observer.callSettled(record, call);
        } catch (error) {
          report(error);
        }
      }
    },
    requestAnswered(record, status, error) {
      for (const observer of observers) {
        try {
          observer.requestAnswered(record, status, error);
        } catch (thrown) {
          report(thrown);
        }
      }
    },
  };
}
