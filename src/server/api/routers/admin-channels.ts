import { TRPCError } from "@trpc/server";
import { z } from "zod";
import {
  addChannel,
  ChannelInputError,
  ChannelNameTakenError,
  channelPatchSchema,
  findChannelByName,
  listChannels,
  requireChannel,
  setChannelEnabled,
  updateChannel,
} from "~/server/services/channels";
import { readStoredChannelStats } from "~/server/services/channel-stats";
import { testChannel } from "~/server/services/test-channel";
import { NotFoundError } from "~/server/services/users";
import { adminProcedure, createTRPCRouter } from "../trpc";

/** Service errors as tRPC codes; anything else stays an internal error. */
function asTRPCError(error: unknown): unknown {
  if (error instanceof NotFoundError) return new TRPCError({ code: "NOT_FOUND", message: error.message });
  if (error instanceof ChannelNameTakenError) return new TRPCError({ code: "CONFLICT", message: error.message });
  if (error instanceof ChannelInputError) return new TRPCError({ code: "BAD_REQUEST", message: error.message });
  return error;
}

/**
 * Channels for admins: what `tollgate channel list|edit|enable|disable|test` does, over tRPC. Upstream keys go in
 * (`update` with `apiKey`) and never come out: the list says only whether a channel has one.
 */
export const adminChannelsRouter = createTRPCRouter({
  /** Every channel by name, with its health (broken mark and reason), timeouts and last test. */
  list: adminProcedure.query(({ ctx }) => listChannels(ctx.container.db)),

  /**
   * Live statistics per channel and upstream model over 5 minutes, 30 minutes and a day, as every gateway process
   * stored them; this process's newest counts are written first.
   */
  stats: adminProcedure.input(z.object({ channelId: z.uuid().optional() }).optional()).query(async ({ ctx, input }) => {
    const { db, channelStatsPersistence } = ctx.container;
    await channelStatsPersistence.flush();
    const names = new Map((await listChannels(db)).map((channel) => [channel.id, channel.name]));
    const rows = await readStoredChannelStats(db, Date.now(), input?.channelId);
    return rows.map((row) => ({ ...row, channelName: names.get(row.channelId) ?? null }));
  }),

  /**
   * Adds a channel (what `tollgate channel add` does): its key is stored encrypted, its endpoints are the listed models
   * or, without a list, the catalog models of its provider; gateways reload at once.
   */
  create: adminProcedure
    .input(
      z.object({
        kind: z.enum(["openai", "anthropic", "gemini", "openai-compatible"]),
        name: z.string().trim().min(1).max(200),
        baseUrl: channelPatchSchema.shape.baseUrl.unwrap(),
        apiKey: z.string().trim().min(1).max(10_000).optional(),
        provider: channelPatchSchema.shape.provider,
        priority: channelPatchSchema.shape.priority,
        weight: channelPatchSchema.shape.weight,
        aggregator: channelPatchSchema.shape.aggregator,
        models: z
          .array(z.object({ modelId: z.string().trim().min(1), upstreamModel: z.string().trim().min(1).optional() }))
          .min(1)
          .optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const { db, changes, secretBox } = ctx.container;
      try {
        if (input.apiKey === undefined && input.kind !== "openai-compatible")
          throw new ChannelInputError(`${input.kind} channels need a key`);
        if ((await findChannelByName(db, input.name)) !== null) throw new ChannelNameTakenError(input.name);
        return (await addChannel(db, secretBox, changes, input, ctx.actor)).channel;
      } catch (error) {
        throw asTRPCError(error);
      }
    }),

  /** Changes the fields given; a new key or base URL, or enabling, clears the broken mark. Gateways reload. */
  update: adminProcedure
    .input(z.object({ id: z.uuid(), patch: channelPatchSchema }))
    .mutation(async ({ ctx, input }) => {
      const { db, changes, secretBox } = ctx.container;
      try {
        return await updateChannel(db, changes, secretBox, input.id, input.patch, ctx.actor);
      } catch (error) {
        throw asTRPCError(error);
      }
    }),

  /** Enabling also clears the broken mark (the operator says the cause is fixed). */
  setEnabled: adminProcedure
    .input(z.object({ id: z.uuid(), enabled: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      try {
        return await setChannelEnabled(ctx.container.db, ctx.container.changes, input.id, input.enabled, ctx.actor);
      } catch (error) {
        throw asTRPCError(error);
      }
    }),

  /**
   * Sends the channel a one-token request through the gateway's own adapters and transport and records the latency,
   * status and error on the channel. An upstream failure is a result (`ok: false`), not an error.
   */
  test: adminProcedure
    .input(z.object({ id: z.uuid(), upstreamModel: z.string().trim().min(1).max(200).optional() }))
    .mutation(async ({ ctx, input }) => {
      const { db, changes, secretBox, providers } = ctx.container;
      try {
        const channel = await requireChannel(db, input.id);
        return await testChannel({ db, changes, secretBox, providers, actor: ctx.actor }, channel, {
          upstreamModel: input.upstreamModel,
        });
      } catch (error) {
        throw asTRPCError(error);
      }
    }),
});
