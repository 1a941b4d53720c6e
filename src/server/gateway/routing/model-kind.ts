import { errors, type GatewayError } from "../errors";
import type { CatalogModel } from "./catalog";

/**
 * The output modality that marks an embedding model in the catalog, as OpenRouter lists them: such a model answers
 * POST /v1/embeddings only, and every other model the completion doors only.
 */
export const EMBEDDINGS_MODALITY = "embeddings";

export function isEmbeddingModel(model: Pick<CatalogModel, "outputModalities">): boolean {
  return model.outputModalities.includes(EMBEDDINGS_MODALITY);
}

/**
 * The length of an embedding model's vectors. An embedding produces no output tokens, so the catalog keeps the vector
 * length in the model's output limit rather than in a column of its own; this is the one place that reads it so.
 */
export function embeddingDimensions(model: Pick<CatalogModel, "maxOutputTokens">): number {
  return model.maxOutputTokens;
}

/** An embedding model named on a completion door (`param` is `model`, or the `models[i]` fallback). */
export function embeddingModelOnChat(modelId: string, param: string): GatewayError {
  return errors.invalidRequest(
    `\`${modelId}\` is an embedding model: call it on POST /v1/embeddings. Chat completions need a chat model ` +
      "(GET /v1/models lists each model's output modalities).",
    param,
    "not_a_chat_model",
  );
}

/** A chat model named on POST /v1/embeddings. */
export function chatModelOnEmbeddings(modelId: string): GatewayError {
  return errors.invalidRequest(
    `\`${modelId}\` is not an embedding model: call it on POST /v1/chat/completions. Embeddings need a model whose ` +
      `output modalities include "${EMBEDDINGS_MODALITY}" (GET /v1/models lists them).`,
    "model",
    "not_an_embedding_model",
  );
}
