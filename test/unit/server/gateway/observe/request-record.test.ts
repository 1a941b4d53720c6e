import { describe, expect, it } from "vitest";
import { combineObservers, type RequestObserver } from "~/server/gateway/observe/request-record";

describe("combineObservers", () => {
  it("tells every observer, and a throwing one neither fails the request nor silences the others", () => {
    const told: string[] = [];
    const broken: RequestObserver = {
      callAdmitted: () => {
        throw new Error("broken admitted");
      },
      callSettled: () => {
        throw new Error("broken settled");
      },
      requestAnswered: () => {
        throw new Error("broken answered");
      },
    };
    const working: RequestObserver = {
      callAdmitted: (hold) => told.push(`admitted ${hold}`),
      callSettled: () => told.push("settled"),
      requestAnswered: (_record, status) => told.push(`answered ${status}`),
    };
    const errors: unknown[] = [];
    const combined = combineObservers([broken, working], (error) => errors.push(error));
    const record = {} as Parameters<RequestObserver["requestAnswered"]>[0];
    expect(() => {
      combined.callAdmitted(5n);
      combined.callSettled(record, {} as Parameters<RequestObserver["callSettled"]>[1]);
      combined.requestAnswered(record, 404, null);
      combined.requestAnswered(record, 200, null);
    }).not.toThrow();
    expect(told).toEqual(["admitted 5", "settled", "answered 404", "answered 200"]);
    // Reported once: a broken observer would otherwise log on every request.
    expect(errors.map((error) => (error as Error).message)).toEqual(["broken admitted"]);
  });
});
