import { describe, expect, it } from "vitest";
import { convertJsonSchema, SchemaTooLargeError } from "~/server/gateway/providers/gemini/convert-json-schema";

describe("JSON Schema → Gemini's Schema subset", () => {
  it("uppercases types and drops keywords Gemini refuses", () => {
    expect(
      convertJsonSchema({
        $schema: "https://json-schema.org/draft/2020-12/schema",
        type: "object",
        title: "Weather",
        properties: {
          city: { type: "string", description: "City name", minLength: 1, format: "hostname" },
          when: { type: "string", format: "date-time" },
          days: { type: "integer", minimum: 1, maximum: 7, exclusiveMaximum: 8, format: "int32" },
          metric: { type: "boolean", default: true },
          tags: { type: "array", items: { type: "string" }, minItems: 1, uniqueItems: true },
        },
        required: ["city", "ghost"],
        additionalProperties: false,
      }),
    ).toEqual({
      type: "OBJECT",
      title: "Weather",
      properties: {
        city: { type: "STRING", description: "City name", minLength: 1 },
        when: { type: "STRING", format: "date-time" },
        days: { type: "INTEGER", minimum: 1, maximum: 7, format: "int32" },
        metric: { type: "BOOLEAN", default: true },
        tags: { type: "ARRAY", items: { type: "STRING" }, minItems: 1 },
      },
      // A required name with no property would be refused.
      required: ["city"],
    });
  });

  it("turns type arrays and null variants into nullable, other unions into anyOf", () => {
    expect(
      convertJsonSchema({
        type: "object",
        properties: {
          a: { type: ["string", "null"] },
          b: { anyOf: [{ type: "integer" }, { type: "null" }], description: "maybe a number" },
          c: { oneOf: [{ type: "string" }, { type: "number" }] },
          d: { type: ["string", "integer"] },
        },
      }),
    ).toEqual({
      type: "OBJECT",
      properties: {
        a: { type: "STRING", nullable: true },
        b: { type: "INTEGER", nullable: true, description: "maybe a number" },
        c: { anyOf: [{ type: "STRING" }, { type: "NUMBER" }] },
        d: { anyOf: [{ type: "STRING" }, { type: "INTEGER" }] },
      },
    });
  });

  it("keeps string enums, turns const into an enum, and describes enums Gemini cannot hold", () => {
    expect(
      convertJsonSchema({
        type: "object",
        properties: {
          unit: { type: "string", enum: ["celsius", "fahrenheit"] },
          kind: { const: "forecast" },
          level: { type: "integer", enum: [1, 2, 3], description: "Detail level." },
          maybe: { enum: ["yes", "no", null] },
        },
      }),
    ).toEqual({
      type: "OBJECT",
      properties: {
        unit: { type: "STRING", enum: ["celsius", "fahrenheit"] },
        kind: { type: "STRING", enum: ["forecast"] },
        level: { type: "INTEGER", description: "Detail level. Allowed values: 1, 2, 3." },
        maybe: { type: "STRING", enum: ["yes", "no"], nullable: true },
      },
    });
  });

  it("inlines $ref from $defs and definitions, merges allOf, and cuts recursion", () => {
    expect(
      convertJsonSchema({
        type: "object",
        $defs: {
          Address: { type: "object", properties: { street: { type: "string" } }, required: ["street"] },
          Node: { type: "object", properties: { value: { type: "string" }, next: { $ref: "#/$defs/Node" } } },
        },
        definitions: { Zip: { type: "string", pattern: "^[0-9]{5}$" } },
        properties: {
          home: { $ref: "#/$defs/Address", description: "Where they live" },
          zip: { $ref: "#/definitions/Zip" },
          list: { $ref: "#/$defs/Node" },
          both: {
            allOf: [{ $ref: "#/$defs/Address" }, { type: "object", properties: { floor: { type: "integer" } } }],
          },
        },
      }),
    ).toEqual({
      type: "OBJECT",
      properties: {
        home: {
          type: "OBJECT",
          description: "Where they live",
          properties: { street: { type: "STRING" } },
          required: ["street"],
        },
        zip: { type: "STRING", pattern: "^[0-9]{5}$" },
        list: {
          type: "OBJECT",
          properties: { value: { type: "STRING" }, next: { type: "OBJECT" } },
        },
        both: {
          type: "OBJECT",
          properties: { street: { type: "STRING" }, floor: { type: "INTEGER" } },
          required: ["street"],
        },
      },
    });
  });

  it("refuses a schema whose $refs would expand it exponentially, and survives allOf cycles", () => {
    // Each definition uses the next twice: 2^40 nodes if inlined naively.
    const $defs: Record<string, unknown> = { D40: { type: "string" } };
    for (let level = 0; level < 40; level += 1) {
      $defs[`D${level}`] = {
        type: "object",
        properties: { left: { $ref: `#/$defs/D${level + 1}` }, right: { $ref: `#/$defs/D${level + 1}` } },
      };
    }
    expect(() => convertJsonSchema({ $ref: "#/$defs/D0", $defs })).toThrow(SchemaTooLargeError);
    const cyclic = { $defs: { A: { allOf: [{ $ref: "#/$defs/A" }, { $ref: "#/$defs/A" }] } }, $ref: "#/$defs/A" };
    expect(() => convertJsonSchema(cyclic)).toThrow(SchemaTooLargeError);
    const selfMerging = { $defs: { A: { type: "object", allOf: [{ $ref: "#/$defs/A" }] } }, $ref: "#/$defs/A" };
    expect(convertJsonSchema(selfMerging)).toEqual({ type: "OBJECT" });
  });

  it("an empty parameter object stays an empty OBJECT, as Gemini's recorded requests send it", () => {
    expect(convertJsonSchema({ type: "object", properties: {}, additionalProperties: false })).toEqual({
      type: "OBJECT",
      properties: {},
    });
  });
});
