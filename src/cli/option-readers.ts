/** Options several commands read the same way, in a module of their own so that commands need not import each other. */
import { emailSchema } from "~/server/services/users";
import { optionString, requiredString, UsageError, type CommandInput } from "./command";

/** The email as the services store it, or a usage error naming the option. */
export function readEmail(input: CommandInput): string {
  const parsed = emailSchema.safeParse(requiredString(input, "email"));
  if (!parsed.success) throw new UsageError(`--email: ${parsed.error.issues[0]?.message ?? "not an email address"}`);
  return parsed.data;
}

/** `--rpm 60` → 60; `none` → null (no own limit); absent → unchanged. */
function readRate(input: CommandInput, option: string): number | null | undefined {
  const text = optionString(input, option);
  if (text === undefined) return undefined;
  if (text.trim().toLowerCase() === "none") return null;
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1)
    throw new UsageError(`--${option} must be a whole number ≥ 1, or none`);
  return Number(text);
}

/** `--rpm`, `--tpm` and `--concurrency`, at least one of them. */
export function readRateLimits(input: CommandInput) {
  const limits = {
    requestsPerMinute: readRate(input, "rpm"),
    tokensPerMinute: readRate(input, "tpm"),
    concurrentRequests: readRate(input, "concurrency"),
  };
  if (Object.values(limits).every((value) => value === undefined)) {
    throw new UsageError("give at least one of --rpm, --tpm, --concurrency");
  }
  return limits;
}
