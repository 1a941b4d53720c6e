import { TRPCError } from "@trpc/server";
import { eq } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "~/server/db";
import { users } from "~/server/db/schema";
import { NANO_PER_USD } from "~/server/gateway/billing/money";
import { AccountStatusError } from "~/server/services/account-status";
import { ChannelInputError, ChannelNameTakenError } from "~/server/services/channels";
import { StalePriceEditError } from "~/server/services/model-endpoints";
import { ModelExistsError } from "~/server/services/models";
import { PromoCodeError } from "~/server/services/promo-codes";
import { NotFoundError } from "~/server/services/users";

/** Guards against a slipped finger; larger grants can be made in steps or through the CLI. */
export const MAX_GRANT_NANO = 1_000_000n * NANO_PER_USD;

/** A rate limit as an `integer` column holds it; null removes it. */
export const rateLimitSchema = z.number().int().min(1).max(2_147_483_647).nullish();

/** The user an admin names by id or by email (exactly one of them). */
export async function requireUser(db: Database, input: { userId?: string | undefined; email?: string | undefined }) {
  const condition =
    input.userId !== undefined ? eq(users.id, input.userId) : eq(users.email, input.email?.trim().toLowerCase() ?? "");
  const [user] = await db.select({ id: users.id, email: users.email }).from(users).where(condition).limit(1);
  if (user === undefined)
    throw new TRPCError({ code: "NOT_FOUND", message: `No user ${input.userId ?? input.email ?? ""}` });
  return user;
}

/** The services' errors as tRPC codes, their messages kept (they are written for the admin); anything else as is. */
export function asTRPCError(error: unknown): unknown {
  if (error instanceof NotFoundError) return new TRPCError({ code: "NOT_FOUND", message: error.message });
  if (
    error instanceof ChannelNameTakenError ||
    error instanceof ModelExistsError ||
    error instanceof StalePriceEditError
  )
    return new TRPCError({ code: "CONFLICT", message: error.message });
  if (error instanceof ChannelInputError || error instanceof AccountStatusError)
    return new TRPCError({ code: "BAD_REQUEST", message: error.message });
  if (error instanceof PromoCodeError)
    return new TRPCError({ code: error.reason === "exists" ? "CONFLICT" : "BAD_REQUEST", message: error.message });
  return error;
}

/** Runs a service call, its known errors turned into tRPC errors. */
export async function mapServiceErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw asTRPCError(error);
  }
}
