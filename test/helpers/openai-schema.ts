import { readFileSync } from "node:fs";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { SPEC_PATH } from "./fixtures";

// ajv-formats is CommonJS; under ESM its function may sit on `default`.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv2020,
) => Ajv2020;

const bundle = JSON.parse(readFileSync(SPEC_PATH, "utf8")) as { $id: string };
const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats(ajv);
ajv.addFormat("unixtime", { type: "number", validate: (value: number) => Number.isInteger(value) && value >= 0 });
ajv.addSchema(bundle);

function compiled(definition: string): ValidateFunction {
  const validate = ajv.getSchema(`${bundle.$id}#/$defs/${definition}`);
  if (validate === undefined) throw new Error(`No ${definition} in the OpenAI spec bundle`);
  return validate;
}

const validators = {
  response: compiled("CreateChatCompletionResponse"),
  chunk: compiled("CreateChatCompletionStreamResponse"),
  error: compiled("ErrorResponse"),
  request: compiled("CreateChatCompletionRequest"),
};

/** Throws with Ajv's explanation when `value` is not a valid instance of the OpenAI definition. */
export function assertMatchesOpenAISpec(kind: keyof typeof validators, value: unknown): void {
  const validate = validators[kind];
  if (!validate(value)) {
    throw new Error(`Not a valid OpenAI ${kind}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value)}`);
  }
}
