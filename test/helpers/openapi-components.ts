import Ajv2020 from "ajv/dist/2020";
import { expect } from "vitest";

export interface OpenApiComponents {
  document: { openapi: string; paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
  /** Asserts that `value` is valid against the named component schema, listing every error when it is not. */
  expectMatches(component: string, value: unknown): void;
}

/**
 * The OpenAPI document the gateway publishes at /v1/openapi.json, fetched once, with its component schemas compiled:
 * tests hold every answer to it, so the document is proven to describe what is really sent.
 */
export async function loadOpenApiComponents(baseUrl: string): Promise<OpenApiComponents> {
  const response = await fetch(`${baseUrl}/openapi.json`);
  expect(response.status).toBe(200);
  const document = (await response.json()) as OpenApiComponents["document"];
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema({ $id: "urn:tollgate:openapi", components: document.components });
  return {
    document,
    expectMatches(component, value) {
      const validate = ajv.getSchema(`urn:tollgate:openapi#/components/schemas/${component}`);
      if (validate === undefined) throw new Error(`no component ${component}`);
      const valid = validate(value);
      expect(validate.errors ?? [], JSON.stringify(value).slice(0, 500)).toEqual([]);
      expect(valid).toBe(true);
    },
  };
}
