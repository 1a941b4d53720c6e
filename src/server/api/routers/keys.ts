import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { createApiKey, describeApiKey, listApiKeys, revokeApiKey } from "~/server/services/api-keys";
import { NotFoundError } from "~/server/services/users";
import { createTRPCRouter, protectedProcedure } from "../trpc";

export const keysRouter = createTRPCRouter({
  list: protectedProcedure.query(async ({ ctx }) => {
    const keys = await listApiKeys(ctx.container.db, ctx.session.user.id);
    return keys.map(describeApiKey);
  }),

  /** The plaintext is in this response only; it is never stored and cannot be shown again. */
  create: protectedProcedure
    .input(
      z.object({
        name: z.string().trim().min(1, "Give the key a name").max(64),
        /** Public model ids the key may call; omitted or null for every model. */
        allowedModels: z.array(z.string().trim().min(1)).min(1).max(500).nullish(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const { key, plaintext } = await createApiKey(ctx.container.db, {
        userId: ctx.session.user.id,
        name: input.name,
        allowedModels: input.allowedModels ?? null,
      });
      return { id: key.id, name: key.name, prefix: key.prefix, createdAt: key.createdAt, plaintext };
    }),

  revoke: protectedProcedure.input(z.object({ id: z.uuid() })).mutation(async ({ ctx, input }) => {
    try {
      // Scoped to the caller: someone else's key id is indistinguishable from one that does not exist.
      const key = await revokeApiKey(ctx.container.db, ctx.container.changes, {
        idOrPrefix: input.id,
        userId: ctx.session.user.id,
      });
      return { id: key.id, revokedAt: key.revokedAt };
    } catch (error) {
      if (error instanceof NotFoundError) {
        throw new TRPCError({ code: "NOT_FOUND", message: "No active key with this id", cause: error });
      }
      throw error;
    }
  }),
});
