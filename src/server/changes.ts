import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { DatabaseHandle } from "./db";
import type { Logger } from "./gateway/logger";

/** Things other processes must hear about: the CLI and every gateway instance share one database. */
export const changeSchema = z.discriminatedUnion("topic", [
  z.object({ topic: z.literal("api-key-revoked"), hash: z.string() }),
  /** A key's spend limit, reset period, expiry or state changed. */
  z.object({ topic: z.literal("api-key-changed"), id: z.string() }),
  z.object({ topic: z.literal("catalog-changed") }),
  z.object({ topic: z.literal("balance-changed"), userId: z.string() }),
  /** A process is short of credit for the account: every process gives back its lease's slack (leased-balance-holds.ts). */
  z.object({ topic: z.literal("balance-lease-recall"), userId: z.string() }),
  /**
   * Told to this process's listeners only, when its listening connection was lost and restored: any change may have
   * been missed, so every cache built on them is dropped.
   */
  z.object({ topic: z.literal("changes-missed") }),
]);
export type Change = z.infer<typeof changeSchema>;

export type ChangeListener = (change: Change) => void | Promise<void>;

export interface ChangeBus {
  /**
   * Applies the change in this process (resolving once its listeners have, e.g. after the catalog reloaded), then tells
   * every other process through PostgreSQL NOTIFY.
   */
  publish(change: Change): Promise<void>;
  subscribe(listener: ChangeListener): () => void;
  close(): Promise<void>;
}

/** A bus nobody listens on: for work done before anything subscribes (first-start set-up) or with no one to tell. */
export const NULL_CHANGE_BUS: ChangeBus = {
  publish: () => Promise.resolve(),
  subscribe: () => () => {},
  close: () => Promise.resolve(),
};

const CHANNEL = "tollgate_changes";
const envelopeSchema = z.object({ origin: z.string(), change: changeSchema });

export async function createChangeBus(
  database: DatabaseHandle,
  logger: Logger,
  options: { listen: boolean },
): Promise<ChangeBus> {
  const origin = randomUUID();
  const listeners = new Set<ChangeListener>();
  const dispatch = async (change: Change) => {
    const results = await Promise.allSettled([...listeners].map(async (listener) => listener(change)));
    for (const result of results) {
      if (result.status === "rejected")
        logger.error("applying a change failed", { error: result.reason, topic: change.topic });
    }
  };
  const unlisten = options.listen
    ? await database.listen(
        CHANNEL,
        (payload) => {
          try {
            const envelope = envelopeSchema.parse(JSON.parse(payload));
            if (envelope.origin !== origin) void dispatch(envelope.change);
          } catch (error) {
            logger.warn("ignored a malformed change notification", { error });
          }
        },
        () => {
          logger.warn("listening for changes again after losing the connection; dropping what was cached on them");
          void dispatch({ topic: "changes-missed" });
        },
      )
    : async () => {};
  return {
    async publish(change) {
      await dispatch(change);
      await database.notify(CHANNEL, JSON.stringify({ origin, change }));
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: unlisten,
  };
}
