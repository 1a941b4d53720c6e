import type { ChatCompletionRequest } from "../../protocol/chat-completion-request";
import { errors } from "../../errors";
import { convertJsonSchema, SchemaTooLargeError } from "./convert-json-schema";
import type { GeminiFunctionDeclaration, GeminiRequestBody, GeminiToolConfig } from "./gemini-types";

/**
 * OpenAI `tools` → one Gemini tool holding every `functionDeclarations` entry, and `tool_choice` → `toolConfig`:
 * `auto` → AUTO, `none` → NONE, `required` → ANY, a named function → ANY restricted to that name.
 */
export function convertTools(request: ChatCompletionRequest): Pick<GeminiRequestBody, "tools" | "toolConfig"> {
  const tools = request.tools ?? [];
  if (tools.length === 0) return {};
  const functionDeclarations = tools.map(({ function: fn }, index): GeminiFunctionDeclaration => {
    const declaration: GeminiFunctionDeclaration = { name: fn.name };
    if (typeof fn.description === "string") declaration.description = fn.description;
    // A function that declares no parameters takes none: Gemini's declaration leaves `parameters` out.
    if (fn.parameters != null) {
      try {
        declaration.parameters = convertJsonSchema(fn.parameters);
      } catch (error) {
        if (!(error instanceof SchemaTooLargeError)) throw error;
        throw errors.invalidRequest(
          `This tool's parameters cannot be sent to this model: ${error.message}.`,
          `tools[${index}].function.parameters`,
        );
      }
    }
    return declaration;
  });

  let toolConfig: GeminiToolConfig | undefined;
  const choice = request.tool_choice;
  if (choice === "auto") toolConfig = { functionCallingConfig: { mode: "AUTO" } };
  else if (choice === "none") toolConfig = { functionCallingConfig: { mode: "NONE" } };
  else if (choice === "required") toolConfig = { functionCallingConfig: { mode: "ANY" } };
  else if (choice != null) {
    toolConfig = { functionCallingConfig: { mode: "ANY", allowedFunctionNames: [choice.function.name] } };
  }
  return { tools: [{ functionDeclarations }], ...(toolConfig === undefined ? {} : { toolConfig }) };
}
