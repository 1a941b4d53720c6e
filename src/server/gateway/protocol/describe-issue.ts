import type { z } from "zod";

export interface InvalidParam {
  message: string;
  /** The offending field as a path, e.g. `messages[1].content`; null for the body as a whole. */
  param: string | null;
  code: "missing_required_parameter" | "invalid_type" | "invalid_value";
}

/** `["messages", 1, "content"]` → `messages[1].content`, the way OpenAI names nested fields. */
export function paramPath(path: readonly PropertyKey[]): string | null {
  let text = "";
  for (const key of path) {
    if (typeof key === "number") text += `[${key}]`;
    else text += text === "" ? String(key) : `.${String(key)}`;
  }
  return text === "" ? null : text;
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return "a string";
  if (typeof value === "number") return "a number";
  if (typeof value === "boolean") return "a boolean";
  return typeof value;
}

function expected(name: string): string {
  if (name === "array" || name === "object" || name === "integer") return `an ${name}`;
  return `a ${name}`;
}

function bound(issue: z.core.$ZodIssueTooBig | z.core.$ZodIssueTooSmall, word: "most" | "least"): string {
  const limit = Number("maximum" in issue ? issue.maximum : issue.minimum);
  const strict = !issue.inclusive;
  if (issue.origin === "array") return `must have at ${word} ${limit} item${limit === 1 ? "" : "s"}`;
  if (issue.origin === "string") return `must be at ${word} ${limit} character${limit === 1 ? "" : "s"} long`;
  if (strict) return `must be ${word === "most" ? "less" : "greater"} than ${limit}`;
  return `must be at ${word} ${limit}`;
}

/**
 * Turns the first zod issue into a sentence a developer can act on, the field it concerns and an OpenAI-style code.
 * A union's issues are unwrapped to the branch that got furthest, so `messages[0].content` is blamed, not `messages`.
 */
export function describeIssue(issue: z.core.$ZodIssue, input: unknown): InvalidParam {
  if (issue.code === "invalid_union" && issue.errors.length > 0) {
    // Pick the branch whose first complaint sits deepest: that is the branch the client meant.
    const branches = issue.errors
      .map((branch) => branch[0])
      .filter((first): first is z.core.$ZodIssue => first !== undefined);
    const deepest = branches.reduce<z.core.$ZodIssue | undefined>(
      (best, candidate) => (best === undefined || candidate.path.length > best.path.length ? candidate : best),
      undefined,
    );
    if (deepest !== undefined && deepest.path.length > 0) {
      return describeIssue({ ...deepest, path: [...issue.path, ...deepest.path] }, input);
    }
    // No branch got past the value's type (`stop: 5` against string | string[]): say which types would do.
    const expectedTypes = branches.flatMap((branch) => (branch.code === "invalid_type" ? [branch.expected] : []));
    const value = valueAt(input, issue.path);
    if (expectedTypes.length === branches.length && value !== undefined) {
      const param = paramPath(issue.path);
      return {
        message: `Invalid type for ${param === null ? "the request body" : `\`${param}\``}: expected ${[
          ...new Set(expectedTypes),
        ]
          .map(expected)
          .join(" or ")}, but got ${typeName(value)}.`,
        param,
        code: "invalid_type",
      };
    }
  }

  const param = paramPath(issue.path);
  const field = param === null ? "the request body" : `\`${param}\``;
  const value = valueAt(input, issue.path);
  switch (issue.code) {
    case "invalid_type":
      if (value === undefined) {
        return { message: `Missing required parameter: ${field}.`, param, code: "missing_required_parameter" };
      }
      return {
        message: `Invalid type for ${field}: expected ${expected(issue.expected)}, but got ${typeName(value)}.`,
        param,
        code: "invalid_type",
      };
    case "too_big":
      return { message: `Invalid value for ${field}: ${bound(issue, "most")}.`, param, code: "invalid_value" };
    case "too_small":
      return { message: `Invalid value for ${field}: ${bound(issue, "least")}.`, param, code: "invalid_value" };
    case "invalid_value":
      return {
        message: `Invalid value for ${field}: expected one of ${issue.values.map((item) => JSON.stringify(item)).join(", ")}.`,
        param,
        code: "invalid_value",
      };
    case "invalid_union":
      if (value === undefined) {
        return { message: `Missing required parameter: ${field}.`, param, code: "missing_required_parameter" };
      }
      return { message: `Invalid value for ${field}: ${issue.message}.`, param, code: "invalid_value" };
    default:
      return { message: `Invalid value for ${field}: ${issue.message}.`, param, code: "invalid_value" };
  }
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
