/**
 * What a service refuses, and why, in the few kinds every caller maps once: tRPC codes (src/server/api/trpc.ts), the
 * CLI (one line, exit status 1) and server actions (the message on the form). The message is written for whoever
 * asked: a customer or an operator.
 */
export type ServiceErrorKind = "invalid_input" | "not_found" | "conflict";

export class ServiceError extends Error {
  constructor(
    readonly kind: ServiceErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "ServiceError";
  }
}
