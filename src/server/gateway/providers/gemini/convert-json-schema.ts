import type { GeminiSchema } from "./gemini-types";

/*
 * JSON Schema (what OpenAI tools declare their parameters with) → Gemini's `Schema`, the OpenAPI 3.0 subset that
 * `functionDeclarations[].parameters` accepts. Gemini refuses keywords outside that subset (`$ref`,
 * `additionalProperties`, `const`, type arrays, …), so the schema is rewritten rather than forwarded:
 *
 * - `$ref` to `#/$defs/…` or `#/definitions/…` is inlined; a reference back into itself (recursion, which Gemini
 *   cannot express) becomes an open OBJECT at that point.
 * - `type: [T, "null"]` and `anyOf`/`oneOf` with a `null` member become `nullable: true`; other type arrays and
 *   `oneOf` become `anyOf`; `allOf` is merged into one object.
 * - `const` becomes a one-value `enum`; `enum` is kept for strings, and for other values moved into the description
 *   (Gemini's enums are strings only).
 * - String formats other than `date-time` and `enum`, number formats other than Gemini's own, and every keyword
 *   Gemini does not know (`additionalProperties`, `$schema`, `examples`, `exclusiveMinimum`, …) are left out.
 */

type JsonObject = Record<string, unknown>;

const TYPES = {
  string: "STRING",
  number: "NUMBER",
  integer: "INTEGER",
  boolean: "BOOLEAN",
  array: "ARRAY",
  object: "OBJECT",
} as const satisfies Record<string, NonNullable<GeminiSchema["type"]>>;

type JsonType = keyof typeof TYPES;

const FORMATS: Partial<Record<JsonType, ReadonlySet<string>>> = {
  string: new Set(["date-time", "enum"]),
  number: new Set(["float", "double"]),
  integer: new Set(["int32", "int64"]),
};

/** Deep enough for any real tool, shallow enough that a pathological schema cannot blow the stack. */
const MAX_DEPTH = 32;
/**
 * Inlining `$ref`s can multiply a small schema (each definition using the next one twice doubles it): past this
 * many nodes the schema is refused rather than expanded.
 */
const MAX_NODES = 5_000;

/** The schema would expand beyond what is reasonable to send. */
export class SchemaTooLargeError extends Error {
  constructor() {
    super(`the schema expands to more than ${MAX_NODES} nodes once its $refs are inlined`);
    this.name = "SchemaTooLargeError";
  }
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isJsonType(value: unknown): value is JsonType {
  return typeof value === "string" && Object.hasOwn(TYPES, value);
}

function finiteNumber(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function count(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : undefined;
}

interface Context {
  root: JsonObject;
  /** `$ref`s being expanded on the current path. */
  expanding: readonly string[];
  depth: number;
  /** Nodes converted so far, shared by the whole conversion. */
  budget: { nodes: number };
}

function resolveRef(ref: string, root: JsonObject): JsonObject | undefined {
  if (ref === "#") return root;
  const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref);
  if (match === null) return undefined;
  const [, container = "", rawName = ""] = match;
  const definitions = root[container];
  const name = decodeURIComponent(rawName).replaceAll("~1", "/").replaceAll("~0", "~");
  if (!isObject(definitions)) return undefined;
  const target = definitions[name];
  return isObject(target) ? target : undefined;
}

function isNullSchema(value: unknown): boolean {
  return (
    isObject(value) &&
    (value.type === "null" || (Array.isArray(value.enum) && value.enum.length === 1 && value.enum[0] === null))
  );
}

/** Merges `allOf` members into one schema: properties and `required` united, other keywords first-wins. */
function mergeAllOf(schema: JsonObject, context: Context, depth = 0): JsonObject {
  const { allOf, ...rest } = schema;
  if (!Array.isArray(allOf) || depth > MAX_DEPTH) return rest;
  context.budget.nodes += 1;
  if (context.budget.nodes > MAX_NODES) throw new SchemaTooLargeError();
  const merged: JsonObject = { ...rest };
  const properties: JsonObject = isObject(rest.properties) ? { ...rest.properties } : {};
  const required = new Set<string>(
    Array.isArray(rest.required) ? rest.required.filter((name) => typeof name === "string") : [],
  );
  for (const member of allOf) {
    let resolved: unknown = member;
    if (isObject(member) && typeof member.$ref === "string") resolved = resolveRef(member.$ref, context.root) ?? {};
    if (!isObject(resolved)) continue;
    const inner = mergeAllOf(resolved, context, depth + 1);
    if (isObject(inner.properties)) Object.assign(properties, inner.properties);
    if (Array.isArray(inner.required))
      for (const name of inner.required) if (typeof name === "string") required.add(name);
    for (const [key, value] of Object.entries(inner)) {
      if (key !== "properties" && key !== "required" && merged[key] === undefined) merged[key] = value;
    }
  }
  if (Object.keys(properties).length > 0) merged.properties = properties;
  if (required.size > 0) merged.required = [...required];
  return merged;
}

function describeValues(description: unknown, values: unknown[]): string {
  const list = `Allowed values: ${values.map((value) => JSON.stringify(value)).join(", ")}.`;
  return typeof description === "string" && description !== "" ? `${description} ${list}` : list;
}

function convertNode(input: unknown, context: Context): GeminiSchema {
  if (!isObject(input) || context.depth > MAX_DEPTH) return {};
  context.budget.nodes += 1;
  if (context.budget.nodes > MAX_NODES) throw new SchemaTooLargeError();
  let schema = input;

  if (typeof schema.$ref === "string") {
    const ref = schema.$ref;
    const { $ref: _ref, ...siblings } = schema;
    if (context.expanding.includes(ref)) return { type: "OBJECT", ...describedBy(siblings) };
    const target = resolveRef(ref, context.root);
    if (target === undefined) return { type: "OBJECT", ...describedBy(siblings) };
    return convertNode({ ...target, ...siblings }, { ...context, expanding: [...context.expanding, ref] });
  }
  if (Array.isArray(schema.allOf)) schema = mergeAllOf(schema, context);

  const inner: Context = { ...context, depth: context.depth + 1 };
  const result: GeminiSchema = {};
  if (typeof schema.title === "string") result.title = schema.title;
  if (typeof schema.description === "string") result.description = schema.description;
  if (schema.nullable === true) result.nullable = true;

  const variants = Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : null;
  if (variants !== null) {
    const nonNull = variants.filter((variant) => !isNullSchema(variant));
    if (nonNull.length < variants.length) result.nullable = true;
    if (nonNull.length === 1) {
      // The outer title, description and nullability win over the variant's.
      return { ...convertNode(nonNull[0], inner), ...result };
    }
    if (nonNull.length > 1) {
      result.anyOf = nonNull.map((variant) => convertNode(variant, inner));
      return result;
    }
  }

  let types: JsonType[] = [];
  if (Array.isArray(schema.type)) {
    if (schema.type.includes("null")) result.nullable = true;
    types = schema.type.filter(isJsonType);
  } else if (isJsonType(schema.type)) {
    types = [schema.type];
  } else if (schema.type === "null") {
    result.nullable = true;
  }
  if (types.length > 1) {
    // `type: ["string", "number"]`: one variant per type, each with the keywords that apply to it.
    result.anyOf = types.map((type) =>
      convertNode({ ...schema, type, title: undefined, description: undefined }, inner),
    );
    return result;
  }

  let type = types[0];
  let enumValues: unknown[] | undefined = Array.isArray(schema.enum) ? schema.enum : undefined;
  if (schema.const !== undefined) enumValues = [schema.const];
  if (enumValues?.includes(null)) {
    result.nullable = true;
    enumValues = enumValues.filter((value) => value !== null);
  }
  if (type === undefined) {
    if (isObject(schema.properties)) type = "object";
    else if (schema.items !== undefined) type = "array";
    else if (
      enumValues !== undefined &&
      enumValues.length > 0 &&
      enumValues.every((value) => typeof value === "string")
    )
      type = "string";
    else if (
      enumValues !== undefined &&
      enumValues.length > 0 &&
      enumValues.every((value) => typeof value === "number")
    ) {
      type = enumValues.every((value) => Number.isInteger(value)) ? "integer" : "number";
    } else if (
      enumValues !== undefined &&
      enumValues.length > 0 &&
      enumValues.every((value) => typeof value === "boolean")
    ) {
      type = "boolean";
    }
  }
  if (type === undefined) return result;
  result.type = TYPES[type];

  if (enumValues !== undefined && enumValues.length > 0) {
    const strings = enumValues.filter((value): value is string => typeof value === "string");
    if (type === "string" && strings.length === enumValues.length) result.enum = strings;
    else result.description = describeValues(result.description, enumValues);
  }
  if (typeof schema.format === "string" && FORMATS[type]?.has(schema.format)) result.format = schema.format;
  if (schema.default !== undefined && schema.default !== null) result.default = schema.default;

  switch (type) {
    case "object": {
      if (isObject(schema.properties)) {
        const properties: Record<string, GeminiSchema> = {};
        for (const [name, property] of Object.entries(schema.properties))
          properties[name] = convertNode(property, inner);
        result.properties = properties;
        if (Array.isArray(schema.required)) {
          const required = schema.required.filter(
            (name): name is string => typeof name === "string" && Object.hasOwn(properties, name),
          );
          if (required.length > 0) result.required = required;
        }
      }
      const minProperties = count(schema.minProperties);
      const maxProperties = count(schema.maxProperties);
      if (minProperties !== undefined) result.minProperties = minProperties;
      if (maxProperties !== undefined) result.maxProperties = maxProperties;
      break;
    }
    case "array": {
      const items = Array.isArray(schema.items) ? { anyOf: schema.items } : schema.items;
      if (items !== undefined) result.items = convertNode(items, inner);
      const minItems = count(schema.minItems);
      const maxItems = count(schema.maxItems);
      if (minItems !== undefined) result.minItems = minItems;
      if (maxItems !== undefined) result.maxItems = maxItems;
      break;
    }
    case "string": {
      const minLength = count(schema.minLength);
      const maxLength = count(schema.maxLength);
      if (minLength !== undefined) result.minLength = minLength;
      if (maxLength !== undefined) result.maxLength = maxLength;
      if (typeof schema.pattern === "string") result.pattern = schema.pattern;
      break;
    }
    case "number":
    case "integer": {
      const minimum = finiteNumber(schema.minimum);
      const maximum = finiteNumber(schema.maximum);
      if (minimum !== undefined) result.minimum = minimum;
      if (maximum !== undefined) result.maximum = maximum;
      break;
    }
    default:
      break;
  }
  return result;
}

function describedBy(schema: JsonObject): Pick<GeminiSchema, "description"> {
  return typeof schema.description === "string" ? { description: schema.description } : {};
}

/** Converts a JSON Schema to Gemini's Schema; see the top of this file for what changes. */
export function convertJsonSchema(schema: Record<string, unknown>): GeminiSchema {
  return convertNode(schema, { root: schema, expanding: [], depth: 0, budget: { nodes: 0 } });
}
