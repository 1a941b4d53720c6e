/**
 * What a service refuses, and why, in the few kinds its callers map once: tRPC to its codes (src/server/api/trpc.ts),
 * the CLI to one line and exit status 1. The message is written for whoever asked: a customer or an operator.
 */
export type ServiceErrorKind = "invalid_input" | "not_found" | "conflict";

export class ServiceError extends Error {
  constructor(
    readonly kind: ServiceErrorKind,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "ServiceError";
  }
}
