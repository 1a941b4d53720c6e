import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { createCallerFactory, createTRPCRouter, publicProcedure, type TRPCContext } from "~/server/api/trpc";
import { NotFoundError } from "~/server/services/users";
import { ServiceError } from "~/server/services/service-error";
import { StalePriceEditError } from "~/server/services/model-endpoints";
import { PromoCodeError } from "~/server/services/promo-codes";

// A procedure that throws what a service threw; the context is never read on this path.
let toThrow: Error = new Error("unset");
const router = createTRPCRouter({
  fails: publicProcedure.query(() => {
    throw toThrow;
  }),
});

async function failureOf(error: Error): Promise<unknown> {
  toThrow = error;
  const caller = createCallerFactory(router)({} as TRPCContext);
  return caller.fails().catch((thrown: unknown) => thrown);
}

describe("service errors through tRPC", () => {
  it.each([
    [new ServiceError("invalid_input", "The range ends before it starts"), "BAD_REQUEST"],
    [new NotFoundError("No active key matches sk-gw-1234"), "NOT_FOUND"],
    [new PromoCodeError("already-redeemed", "You have redeemed this code already"), "CONFLICT"],
    [new PromoCodeError("unknown", "No such code"), "NOT_FOUND"],
    [new PromoCodeError("expired", "This code has expired"), "BAD_REQUEST"],
  ])("answers %s with %s, its message kept", async (error, code) => {
    const thrown = await failureOf(error);
    expect(thrown).toBeInstanceOf(TRPCError);
    expect(thrown).toMatchObject({ code, message: error.message, cause: error });
  });

  it("keeps each service error's own name and message", () => {
    const stale = new StalePriceEditError(7);
    expect(stale).toBeInstanceOf(ServiceError);
    expect([stale.name, stale.kind, stale.message]).toEqual([
      "StalePriceEditError",
      "conflict",
      "The prices changed since you opened them (now version #7); reload and edit again",
    ]);
    expect([new NotFoundError("No user x").name, new PromoCodeError("invalid", "Bad code").name]).toEqual([
      "NotFoundError",
      "PromoCodeError",
    ]);
  });

  it("leaves any other error an internal one", async () => {
    const thrown = await failureOf(new Error("connection reset"));
    expect(thrown).toMatchObject({ code: "INTERNAL_SERVER_ERROR" });
  });
});
