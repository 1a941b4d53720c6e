import { errors } from "../../errors";
import type { ChatMessage } from "../../protocol/chat-completion-request";
import type { GeminiContent, GeminiPart, GeminiRequestBody } from "./gemini-types";
import { readThoughtSignatures } from "./thought-signatures";

/*
 * OpenAI chat messages → Gemini `contents` + `systemInstruction`.
 *
 * - system and developer messages, wherever they stand, become the one `systemInstruction`, in order;
 * - user → role `user`; assistant → role `model`; tool (and legacy function) results → `functionResponse` parts
 *   in a `user` turn; adjacent turns of one role are merged, so the results of parallel calls travel together, as
 *   Gemini requires;
 * - Gemini's function calls have no ids, so a tool message is matched to its call by `tool_call_id`, looked up in
 *   the assistant messages before it; the call's function name is what Gemini needs. The ids are still sent on
 *   `functionCall`/`functionResponse`, which the API accepts and uses to pair parallel calls.
 */

type JsonObject = Record<string, unknown>;
type UserMessage = Extract<ChatMessage, { role: "user" }>;
type AssistantMessage = Extract<ChatMessage, { role: "assistant" }>;
type TextContent = string | { type: "text"; text: string }[];

const DATA_URL = /^data:([^;,]+)(?:;[^;,]*)*;base64,/i;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `data:<type>;base64,<data>` → Gemini inline data, or null when it is not a base64 data URL. */
export function parseDataUrl(url: string): { mimeType: string; data: string } | null {
  const match = DATA_URL.exec(url);
  if (match === null) return null;
  return { mimeType: (match[1] ?? "").toLowerCase(), data: url.slice(match[0].length) };
}

const EXTENSION_TYPES: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  webp: "image/webp",
  gif: "image/gif",
  heic: "image/heic",
  heif: "image/heif",
  pdf: "application/pdf",
};

function mimeTypeFromName(name: string): string | undefined {
  const extension = /\.([a-z0-9]+)(?:[?#].*)?$/i.exec(name)?.[1]?.toLowerCase();
  return extension === undefined ? undefined : EXTENSION_TYPES[extension];
}

function textOf(content: TextContent): string {
  return typeof content === "string" ? content : content.map((part) => part.text).join("");
}

function imagePart(url: string): GeminiPart {
  const inline = parseDataUrl(url);
  if (inline !== null) return { inlineData: inline };
  // The gateway downloads image URLs before this adapter sees them (see `inlinesImageUrls`); a URL that is still here
  // is given to Gemini as a file reference, which it resolves itself where it can.
  return { fileData: { fileUri: url, mimeType: mimeTypeFromName(url) ?? "image/jpeg" } };
}

function userParts(message: UserMessage, messageIndex: number): GeminiPart[] {
  if (typeof message.content === "string") return [{ text: message.content }];
  return message.content.map((part, partIndex): GeminiPart => {
    switch (part.type) {
      case "text":
        return { text: part.text };
      case "image_url":
        return imagePart(part.image_url.url);
      case "input_audio":
        return {
          inlineData: { mimeType: `audio/${part.input_audio.format.toLowerCase()}`, data: part.input_audio.data },
        };
      case "file": {
        const { file_data: fileData, file_id: fileId, filename } = part.file;
        if (typeof fileData === "string" && fileData !== "") {
          const inline = parseDataUrl(fileData);
          if (inline !== null) return { inlineData: inline };
          const mimeType = filename ? mimeTypeFromName(filename) : undefined;
          if (mimeType !== undefined) return { inlineData: { mimeType, data: fileData } };
        }
        if (typeof fileId === "string" && fileId !== "") return { fileData: { fileUri: fileId } };
        throw errors.invalidRequest(
          "A file part needs `file_data` as a base64 data URL (or with a filename that tells its type) for this model.",
          `messages[${messageIndex}].content[${partIndex}].file`,
        );
      }
    }
  });
}

function parseArguments(text: string, param: string): Record<string, unknown> {
  if (text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw errors.invalidRequest("Tool call arguments must be a JSON object; these are not valid JSON.", param);
  }
  if (!isObject(parsed)) throw errors.invalidRequest("Tool call arguments must be a JSON object.", param);
  return parsed;
}

function assistantParts(message: AssistantMessage, messageIndex: number): GeminiPart[] {
  const signatures = readThoughtSignatures(message);
  const parts: GeminiPart[] = [];
  let text = "";
  if (typeof message.content === "string") text = message.content;
  else if (Array.isArray(message.content)) {
    text = message.content.map((part) => (part.type === "text" ? part.text : part.refusal)).join("");
  }
  if (text === "" && typeof message.refusal === "string") text = message.refusal;
  const unassigned = [...signatures.unassigned];
  if (text !== "") {
    const signature = unassigned.shift();
    parts.push(signature === undefined ? { text } : { text, thoughtSignature: signature });
  }
  (message.tool_calls ?? []).forEach((toolCall, callIndex) => {
    const args = parseArguments(
      toolCall.function.arguments,
      `messages[${messageIndex}].tool_calls[${callIndex}].function.arguments`,
    );
    const signature = signatures.byToolCall.get(toolCall.id) ?? (callIndex === 0 ? unassigned.shift() : undefined);
    parts.push({
      functionCall: { id: toolCall.id, name: toolCall.function.name, args },
      ...(signature === undefined ? {} : { thoughtSignature: signature }),
    });
  });
  if (message.function_call != null) {
    const args = parseArguments(message.function_call.arguments, `messages[${messageIndex}].function_call.arguments`);
    parts.push({ functionCall: { name: message.function_call.name, args } });
  }
  // An assistant turn with nothing to say still needs a part.
  if (parts.length === 0) parts.push({ text: "" });
  return parts;
}

/** Gemini wants a JSON object: a JSON object result is sent as it is, anything else under `output`. */
function functionResponsePayload(content: string): Record<string, unknown> {
  let parsed: unknown = content;
  try {
    parsed = JSON.parse(content);
  } catch {
    // Plain text.
  }
  return isObject(parsed) ? parsed : { output: parsed };
}

export function convertMessages(
  messages: readonly ChatMessage[],
): Pick<GeminiRequestBody, "contents" | "systemInstruction"> {
  const system: { text: string }[] = [];
  const contents: GeminiContent[] = [];
  // Function names of the tool calls seen so far, by id; a later call with the same id wins.
  const toolNames = new Map<string, string>();

  const push = (role: GeminiContent["role"], parts: GeminiPart[]) => {
    const last = contents.at(-1);
    if (last?.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };

  messages.forEach((message, index) => {
    switch (message.role) {
      case "system":
      case "developer":
        if (typeof message.content === "string") system.push({ text: message.content });
        else for (const part of message.content) system.push({ text: part.text });
        break;
      case "user":
        push("user", userParts(message, index));
        break;
      case "assistant":
        for (const toolCall of message.tool_calls ?? []) toolNames.set(toolCall.id, toolCall.function.name);
        push("model", assistantParts(message, index));
        break;
      case "tool": {
        const name = toolNames.get(message.tool_call_id);
        if (name === undefined) {
          throw errors.invalidRequest(
            `\`tool_call_id\` \`${message.tool_call_id}\` does not match a tool call of an earlier assistant message.`,
            `messages[${index}].tool_call_id`,
          );
        }
        push("user", [
          {
            functionResponse: {
              id: message.tool_call_id,
              name,
              response: functionResponsePayload(textOf(message.content)),
            },
          },
        ]);
        break;
      }
      case "function":
        push("user", [
          { functionResponse: { name: message.name, response: functionResponsePayload(message.content ?? "") } },
        ]);
        break;
    }
  });

  return {
    contents,
    ...(system.length > 0 ? { systemInstruction: { parts: system } } : {}),
  };
}
