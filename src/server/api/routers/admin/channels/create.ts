import { z } from "zod";
import {
  addChannel,
  ChannelInputError,
  ChannelNameTakenError,
  channelPatchSchema,
  findChannelByName,
} from "~/server/services/channels";
import { adminProcedure } from "../../../trpc";

/**
 * Adds a channel (what `tollgate channel add` does): its key is stored encrypted, its endpoints are the listed models
 * or, without a list, the catalog models of its provider; gateways reload at once.
 */
export const createChannel = adminProcedure
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
        .array(
          z.object({
            modelId: z.string().trim().min(1).max(200),
            upstreamModel: z.string().trim().min(1).max(200).optional(),
          }),
        )
        .min(1)
        .max(500)
        .optional(),
    }),
  )
  .mutation(async ({ ctx, input }) => {
    const { db, changes, secretBox } = ctx.container;
    if (input.apiKey === undefined && input.kind !== "openai-compatible")
      throw new ChannelInputError(`${input.kind} channels need a key`);
    if ((await findChannelByName(db, input.name)) !== null) throw new ChannelNameTakenError(input.name);
    return (await addChannel(db, secretBox, changes, input, ctx.actor)).channel;
  });
