import type { TokenPrices } from "../billing/compute-cost";
import type { Logger } from "../logger";

export type ChannelKind = "openai" | "anthropic" | "gemini" | "openai-compatible" | "demo";

/** An upstream account with its secret decrypted, held only in memory. */
export interface ResolvedChannel {
  id: string;
  name: string;
  kind: ChannelKind;
  provider: string;
  baseUrl: string;
  apiKey: string | null;
  priority: number;
  weight: number;
  /** Whether the provider may retain prompts (`provider.data_collection: "deny"` excludes those that may). */
  retainsData: boolean;
}

export interface ModelEndpoint {
  id: string;
  upstreamModel: string;
  prices: TokenPrices;
  priority: number;
  weight: number;
  channel: ResolvedChannel;
}

export interface CatalogModel {
  id: string;
  name: string;
  description: string;
  author: string;
  contextLength: number;
  maxOutputTokens: number;
  inputModalities: string[];
  outputModalities: string[];
  supportedParameters: string[];
  /** Unix seconds. */
  created: number;
  /** Enabled endpoints on enabled channels only. */
  endpoints: ModelEndpoint[];
}

export interface Catalog {
  getModel(id: string): CatalogModel | undefined;
  /** Models that at least one endpoint can serve, sorted by id. */
  listModels(): CatalogModel[];
  /** Re-reads the catalog (after an operator changed channels, models or prices). */
  reload(): Promise<void>;
}

/** Keeps the whole routable catalog in memory: /v1 never queries the database to find a model. */
export async function createCatalog(options: {
  load: () => Promise<CatalogModel[]>;
  logger: Logger;
}): Promise<Catalog> {
  let byId = new Map<string, CatalogModel>();
  let listed: CatalogModel[] = [];

  async function reload(): Promise<void> {
    const models = await options.load();
    byId = new Map(models.map((model) => [model.id, model]));
    listed = models.filter((model) => model.endpoints.length > 0).sort((a, b) => a.id.localeCompare(b.id));
    options.logger.debug("catalog loaded", { models: models.length, routable: listed.length });
  }

  await reload();
  return {
    getModel: (id) => byId.get(id),
    listModels: () => listed,
    reload,
  };
}
