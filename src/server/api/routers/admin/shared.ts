import { TRPCError } from "@trpc/server";
import { eq } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "~/server/db";
import { users } from "~/server/db/schema";
import { NANO_PER_USD } from "~/server/gateway/billing/money";

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
