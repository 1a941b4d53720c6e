import type { CatalogModel } from "./catalog-file";

/** The built-in offline model: answers in-process, so a first call works with no provider key and no network. */
export const DEMO_MODEL: CatalogModel = {
  id: "tollgate/echo",
  name: "Tollgate: Echo (offline demo)",
  description:
    "A built-in model that needs no network: it echoes your last message deterministically, streams, and is billed like any other model so you can see metering work.",
  author: "tollgate",
  upstreamModel: "echo",
  releasedAt: "2026-01-01",
  contextLength: 128_000,
  maxOutputTokens: 4_096,
  inputModalities: ["text"],
  outputModalities: ["text"],
  supportedParameters: ["max_tokens", "stop", "temperature", "stream", "stream_options"],
  pricing: { input: "1.00", output: "2.00", cacheRead: null, cacheWrite: null },
};

export const DEMO_CHANNEL_NAME = "tollgate-demo";
