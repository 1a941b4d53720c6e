import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "~/server/api/root";

type Outputs = inferRouterOutputs<AppRouter>["admin"]["channels"];
/** A channel as the channels page lists it. */
export type ChannelItem = Outputs["list"][number];
/** A channel's recent outcomes, for its card. */
export type ChannelHealth = Outputs["health"][number];
