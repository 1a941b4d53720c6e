import type { z } from "zod";
import { errors } from "../errors";
import { describeIssue } from "./describe-issue";

/**
 * A request body checked against a door's schema: a JSON object, or a 400 naming what is wrong (the first issue, with
 * its parameter path) in words a client can act on.
 */
export function parseJsonBody<Schema extends z.ZodType>(body: Uint8Array, schema: Schema): z.infer<Schema> {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"));
  } catch {
    throw errors.invalidRequest("The request body is not valid JSON.", null, "invalid_json");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw errors.invalidRequest("The request body must be a JSON object.", null, "invalid_json");
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue === undefined) throw errors.invalidRequest("Invalid request.");
    const { message, param, code } = describeIssue(issue, json);
    throw errors.invalidRequest(message, param, code);
  }
  return parsed.data;
}
