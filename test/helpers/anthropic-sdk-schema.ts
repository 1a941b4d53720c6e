import path from "node:path";
import Ajv, { type ValidateFunction } from "ajv";
import { createGenerator } from "ts-json-schema-generator";

type JsonSchema = Record<string, unknown>;

/**
 * Anthropic's SDK types compile to no runtime schema, so its declarations are turned into JSON Schema here and the
 * gateway's events are held to them. One relaxation, the one the API itself makes: the types declare nullable fields
 * as always present (`container: Container | null`), while Anthropic's own answers leave most of them out, so a
 * property whose schema allows null may be absent. Every present field must have the declared type, and every
 * non-nullable required field (a tool_use block's `caller`, a message_start's `usage.input_tokens`) must be there.
 */
function nullableMayBeAbsent(schema: unknown): void {
  if (typeof schema !== "object" || schema === null) return;
  if (Array.isArray(schema)) {
    schema.forEach(nullableMayBeAbsent);
    return;
  }
  const object = schema as JsonSchema;
  const properties = object.properties as Record<string, JsonSchema> | undefined;
  if (properties !== undefined && Array.isArray(object.required)) {
    object.required = (object.required as string[]).filter((name) => !allowsNull(properties[name]));
  }
  for (const value of Object.values(object)) nullableMayBeAbsent(value);
}

function allowsNull(schema: JsonSchema | undefined): boolean {
  if (schema === undefined) return false;
  if (schema.type === "null" || (Array.isArray(schema.type) && schema.type.includes("null"))) return true;
  const options = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  return options?.some(allowsNull) ?? false;
}

let validators: { event: ValidateFunction; message: ValidateFunction } | undefined;

/** Validators for a streamed event (`RawMessageStreamEvent`) and a whole `Message`, from the installed SDK. */
export function anthropicSdkValidators(): { event: ValidateFunction; message: ValidateFunction } {
  if (validators !== undefined) return validators;
  const generator = createGenerator({
    path: path.resolve(process.cwd(), "node_modules/@anthropic-ai/sdk/resources/messages/messages.d.ts"),
    skipTypeCheck: true,
    additionalProperties: true,
  });
  const ajv = new Ajv({ strict: false, allErrors: true });
  const compile = (type: string) => {
    const schema = generator.createSchema(type) as JsonSchema;
    nullableMayBeAbsent(schema);
    return ajv.compile(schema);
  };
  validators = { event: compile("RawMessageStreamEvent"), message: compile("Message") };
  return validators;
}
