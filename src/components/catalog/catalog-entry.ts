import type { PublicModel } from "~/server/gateway/protocol/api-schemas";

/** What the catalog page shows and filters on, for one model: the public API's model, trimmed for the browser. */
export interface CatalogEntry {
  id: string;
  name: string;
  author: string;
  description: string;
  contextLength: number;
  maxOutputTokens: number | null;
  inputModalities: string[];
  outputModalities: string[];
  providers: string[];
  /** USD per one million tokens as exact decimals, as charged. */
  inputPerMillion: string;
  outputPerMillion: string;
  supportsTools: boolean;
  supportsStructuredOutputs: boolean;
  supportsReasoning: boolean;
  /** Unix seconds. */
  created: number;
}

const STRUCTURED_OUTPUT_PARAMETERS = ["response_format", "structured_outputs"];
const REASONING_PARAMETERS = ["reasoning", "include_reasoning", "reasoning_effort"];

export function toCatalogEntry(model: PublicModel): CatalogEntry {
  const parameters = new Set(model.supported_parameters);
  return {
    id: model.id,
    name: model.name,
    author: model.owned_by,
    description: model.description,
    contextLength: model.context_length,
    maxOutputTokens: model.top_provider.max_completion_tokens,
    inputModalities: model.architecture.input_modalities,
    outputModalities: model.architecture.output_modalities,
    providers: model.providers,
    inputPerMillion: model.pricing_per_million_usd.prompt,
    outputPerMillion: model.pricing_per_million_usd.completion,
    supportsTools: parameters.has("tools"),
    supportsStructuredOutputs: STRUCTURED_OUTPUT_PARAMETERS.some((parameter) => parameters.has(parameter)),
    supportsReasoning: REASONING_PARAMETERS.some((parameter) => parameters.has(parameter)),
    created: model.created,
  };
}
