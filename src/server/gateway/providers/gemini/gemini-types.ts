import { z } from "zod";

/*
 * The parts of Gemini's generateContent API that the adapter writes and reads. Request shapes are plain types (we
 * build them); response shapes are minimal zod schemas with `.nullish()` fields, since a provider may leave any of
 * them out or add new ones.
 */

export interface GeminiFunctionCall {
  id?: string;
  name: string;
  args: Record<string, unknown>;
}

export interface GeminiFunctionResponse {
  id?: string;
  name: string;
  response: Record<string, unknown>;
}

export type GeminiPart =
  | { text: string; thought?: boolean; thoughtSignature?: string }
  | { inlineData: { mimeType: string; data: string } }
  | { fileData: { fileUri: string; mimeType?: string } }
  | { functionCall: GeminiFunctionCall; thoughtSignature?: string }
  | { functionResponse: GeminiFunctionResponse };

export interface GeminiContent {
  role: "user" | "model";
  parts: GeminiPart[];
}

/** Gemini's `Schema` (an OpenAPI 3.0 subset): what function parameters are declared with. */
export interface GeminiSchema {
  type?: "STRING" | "NUMBER" | "INTEGER" | "BOOLEAN" | "ARRAY" | "OBJECT";
  format?: string;
  title?: string;
  description?: string;
  nullable?: boolean;
  enum?: string[];
  properties?: Record<string, GeminiSchema>;
  required?: string[];
  minProperties?: number;
  maxProperties?: number;
  items?: GeminiSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  anyOf?: GeminiSchema[];
  default?: unknown;
}

export interface GeminiFunctionDeclaration {
  name: string;
  description?: string;
  parameters?: GeminiSchema;
}

export interface GeminiToolConfig {
  functionCallingConfig: { mode: "AUTO" | "ANY" | "NONE"; allowedFunctionNames?: string[] };
}

export interface GeminiThinkingConfig {
  thinkingBudget?: number;
  thinkingLevel?: "low" | "high";
  includeThoughts?: boolean;
}

export interface GeminiGenerationConfig {
  temperature?: number;
  topP?: number;
  topK?: number;
  maxOutputTokens?: number;
  stopSequences?: string[];
  candidateCount?: number;
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseMimeType?: string;
  responseJsonSchema?: Record<string, unknown>;
  thinkingConfig?: GeminiThinkingConfig;
}

export interface GeminiRequestBody {
  contents: GeminiContent[];
  systemInstruction?: { parts: { text: string }[] };
  tools?: { functionDeclarations: GeminiFunctionDeclaration[] }[];
  toolConfig?: GeminiToolConfig;
  generationConfig?: GeminiGenerationConfig;
}

const functionCallSchema = z.looseObject({
  id: z.string().nullish(),
  name: z.string(),
  args: z.record(z.string(), z.unknown()).nullish(),
});

export const geminiPartSchema = z.looseObject({
  text: z.string().nullish(),
  thought: z.boolean().nullish(),
  thoughtSignature: z.string().nullish(),
  functionCall: functionCallSchema.nullish(),
});

export type GeminiResponsePart = z.infer<typeof geminiPartSchema>;

const candidateSchema = z.looseObject({
  index: z.number().int().nullish(),
  content: z.looseObject({ role: z.string().nullish(), parts: z.array(geminiPartSchema).nullish() }).nullish(),
  finishReason: z.string().nullish(),
  finishMessage: z.string().nullish(),
});

export const usageMetadataSchema = z.looseObject({
  promptTokenCount: z.number().int().nullish(),
  candidatesTokenCount: z.number().int().nullish(),
  thoughtsTokenCount: z.number().int().nullish(),
  cachedContentTokenCount: z.number().int().nullish(),
  toolUsePromptTokenCount: z.number().int().nullish(),
  totalTokenCount: z.number().int().nullish(),
});

export type GeminiUsageMetadata = z.infer<typeof usageMetadataSchema>;

/** google.rpc.Status, as Gemini sends it in error bodies and in-band in a failing stream. */
export const geminiErrorSchema = z.looseObject({
  code: z.number().int().nullish(),
  message: z.string().nullish(),
  status: z.string().nullish(),
  details: z.array(z.looseObject({ reason: z.string().nullish() })).nullish(),
});

export type GeminiError = z.infer<typeof geminiErrorSchema>;

/** One generateContent answer, or one event of streamGenerateContent (the same shape, holding a slice). */
export const generateContentResponseSchema = z.looseObject({
  candidates: z.array(candidateSchema).nullish(),
  promptFeedback: z.looseObject({ blockReason: z.string().nullish() }).nullish(),
  usageMetadata: usageMetadataSchema.nullish(),
  modelVersion: z.string().nullish(),
  responseId: z.string().nullish(),
  error: geminiErrorSchema.nullish(),
});

export type GenerateContentResponse = z.infer<typeof generateContentResponseSchema>;
