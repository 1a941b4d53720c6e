import { TRPCError } from "@trpc/server";
import { z } from "zod";
import {
  createApiKey,
  describeApiKey,
  KEY_LIMIT_RESETS,
  listApiKeys,
  revokeApiKey,
  setApiKeyDisabled,
  updateApiKeyLimits,
} from "~/server/services/api-keys";
import { usdAmountSchema } from "~/server/services/credits";
import { createTRPCRouter, protectedProcedure } from "../trpc";

/** A spend limit in USD ("25", "0.5" or a number): exact nano-USD, never negative. */
const limitUsdSchema = usdAmountSchema.refine((nano) => nano >= 0n, "A spend limit cannot be negative");
const limitResetSchema = z.enum(KEY_LIMIT_RESETS);
/** Public model ids the key may call; null for every model. */
const allowedModelsSchema = z
  .array(z.string().trim().min(1).max(200))
  .min(1, "Choose at least one model, or none for every model")
  .max(500);
/** A key's own rate limit (an `integer` column); null takes the configured default. */
const rateLimitSchema = z
  .number()
  .int("must be a whole number")
  .min(1, "must be at least 1")
  .max(2_147_483_647, "must be at most 2147483647");
const rateLimitsSchema = {
  requestsPerMinute: rateLimitSchema.nullish(),
  tokensPerMinute: rateLimitSchema.nullish(),
  concurrentRequests: rateLimitSchema.nullish(),
};

export const keysRouter = createTRPCRouter({
  list: protectedProcedure.query(async ({ ctx }) => {
    const keys = await listApiKeys(ctx.container.db, ctx.session.user.id);
    const now = new Date();
    return keys.map((key) => describeApiKey(key, now));
  }),

  /** The models a key's allowlist can name: those the gateway can route now, by id. */
  models: protectedProcedure.query(({ ctx }) =>
    ctx.container.catalog.listModels().map((model) => ({ id: model.id, name: model.name })),
  ),

  /** The plaintext is in this response only; it is never stored and cannot be shown again. */
  create: protectedProcedure
    .input(
      z.object({
        name: z.string().trim().min(1, "Give the key a name").max(64),
        /** Public model ids the key may call; omitted or null for every model. */
        allowedModels: allowedModelsSchema.nullish(),
        /** Most the key may spend per period, or in total without `limitReset`; omitted or null for no limit. */
        limitUsd: limitUsdSchema.nullish(),
        limitReset: limitResetSchema.nullish(),
        expiresAt: z.date().nullish(),
        ...rateLimitsSchema,
      }),
    )
    .mutation(async ({ ctx, input }) => {
      if (input.expiresAt != null && input.expiresAt.getTime() <= Date.now())
        throw new TRPCError({ code: "BAD_REQUEST", message: "The expiry must be in the future" });
      const { key, plaintext } = await createApiKey(ctx.container.db, {
        userId: ctx.session.user.id,
        name: input.name,
        allowedModels: input.allowedModels ?? null,
        isKnownModel: (id) => ctx.container.catalog.getModel(id) !== undefined,
        spendLimitNano: input.limitUsd ?? null,
        limitReset: input.limitReset ?? null,
        expiresAt: input.expiresAt ?? null,
        requestsPerMinute: input.requestsPerMinute ?? null,
        tokensPerMinute: input.tokensPerMinute ?? null,
        concurrentRequests: input.concurrentRequests ?? null,
      });
      return { ...describeApiKey(key), plaintext };
    }),

  /**
   * Changes a key's limit, reset period, expiry, model allowlist or rate limits: an omitted field stays as it is, null
   * removes it (every model; the configured default rate).
   */
  update: protectedProcedure
    .input(
      z.object({
        id: z.uuid(),
        limitUsd: limitUsdSchema.nullish(),
        limitReset: limitResetSchema.nullish(),
        expiresAt: z.date().nullish(),
        allowedModels: allowedModelsSchema.nullish(),
        ...rateLimitsSchema,
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const key = await updateApiKeyLimits(ctx.container.db, ctx.container.changes, {
        id: input.id,
        userId: ctx.session.user.id,
        spendLimitNano: input.limitUsd,
        limitReset: input.limitReset,
        expiresAt: input.expiresAt,
        allowedModels: input.allowedModels,
        isKnownModel: (id) => ctx.container.catalog.getModel(id) !== undefined,
        requestsPerMinute: input.requestsPerMinute,
        tokensPerMinute: input.tokensPerMinute,
        concurrentRequests: input.concurrentRequests,
      });
      return describeApiKey(key);
    }),

  /** A disabled key is refused at once by every gateway process, and can be enabled again (unlike revoke). */
  setDisabled: protectedProcedure
    .input(z.object({ id: z.uuid(), disabled: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      const key = await setApiKeyDisabled(ctx.container.db, ctx.container.changes, {
        idOrPrefix: input.id,
        userId: ctx.session.user.id,
        disabled: input.disabled,
      });
      return describeApiKey(key);
    }),

  revoke: protectedProcedure.input(z.object({ id: z.uuid() })).mutation(async ({ ctx, input }) => {
    const key = await revokeApiKey(ctx.container.db, ctx.container.changes, {
      idOrPrefix: input.id,
      userId: ctx.session.user.id,
    });
    return { id: key.id, revokedAt: key.revokedAt };
  }),
});
