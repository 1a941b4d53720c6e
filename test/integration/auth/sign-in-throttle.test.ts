import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorizeCredentials, ThrottledSignInError } from "~/server/auth/config";
import {
  clientAddress,
  createMemoryFailureCounts,
  createRedisFailureCounts,
  createSignInThrottle,
  type SignInThrottle,
} from "~/server/auth/sign-in-throttle";
import { createUser } from "~/server/services/users";
import { startApiTestApp, type ApiTestApp } from "../api/support";

/*
 * Failed sign-ins are counted per account and per address; past the limits the password is not even looked at. In
 * memory for one process, and in a real Redis (REDIS_URL) shared by several.
 */

const REDIS_URL = process.env.REDIS_URL?.trim();
const LIMITS = { failuresPerEmail: 3, failuresPerIp: 5, windowMs: 60_000 };
const PASSWORD = "the right password";

let app: ApiTestApp;
let redis: Redis | undefined;

beforeAll(async () => {
  app = await startApiTestApp();
  if (REDIS_URL) redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  redis?.disconnect();
  await app?.close();
});

const stores: [string, () => SignInThrottle][] = [
  ["memory", () => createSignInThrottle(createMemoryFailureCounts(), LIMITS)],
];
if (REDIS_URL) {
  stores.push([
    "redis",
    () =>
      createSignInThrottle(
        createRedisFailureCounts(
          redis!,
          (error) => {
            throw error;
          },
          `tollgate:test-sign-in:${crypto.randomUUID()}:`,
        ),
        LIMITS,
      ),
  ]);
}

describe.each(stores)("signing in with a throttle in %s", (_store, makeThrottle) => {
  async function account() {
    const email = `throttle-${crypto.randomUUID()}@example.com`;
    await createUser(app.container.db, { email, password: PASSWORD });
    return email;
  }

  it("refuses an account after its failures, even with the right password, and a success clears them", async () => {
    const throttle = makeThrottle();
    const email = await account();
    const signIn = (password: string, ip = "203.0.113.7") =>
      authorizeCredentials(app.container.db, { email, password }, { throttle, ip });
    expect(await signIn("wrong 1")).toBeNull();
    expect((await signIn(PASSWORD))?.email).toBe(email);
    // The success cleared the count: three more failures are allowed before the lock.
    for (let failure = 1; failure <= LIMITS.failuresPerEmail; failure++)
      expect(await signIn(`wrong ${failure}`)).toBeNull();
    await expect(signIn(PASSWORD)).rejects.toBeInstanceOf(ThrottledSignInError);
    // From another address too: the account is what is locked.
    await expect(signIn(PASSWORD, "198.51.100.9")).rejects.toBeInstanceOf(ThrottledSignInError);
    const wait = await throttle.retryAfterSeconds({ email, ip: null });
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60);
  });

  it("refuses an address that tries many accounts, and only that address", async () => {
    const throttle = makeThrottle();
    const ip = `192.0.2.${Math.floor(Math.random() * 200) + 1}`;
    for (let failure = 0; failure < LIMITS.failuresPerIp; failure++) {
      const email = await account();
      expect(await authorizeCredentials(app.container.db, { email, password: "guess" }, { throttle, ip })).toBeNull();
    }
    const victim = await account();
    await expect(
      authorizeCredentials(app.container.db, { email: victim, password: PASSWORD }, { throttle, ip }),
    ).rejects.toBeInstanceOf(ThrottledSignInError);
    const elsewhere = await authorizeCredentials(
      app.container.db,
      { email: victim, password: PASSWORD },
      { throttle, ip: "198.51.100.200" },
    );
    expect(elsewhere?.email).toBe(victim);
  });
});

describe("clientAddress", () => {
  it("takes the proxy's first forwarded address, else X-Real-IP, else nothing", () => {
    expect(clientAddress(new Headers({ "x-forwarded-for": " 203.0.113.7 , 10.0.0.1" }))).toBe("203.0.113.7");
    expect(clientAddress(new Headers({ "x-real-ip": "198.51.100.4" }))).toBe("198.51.100.4");
    expect(clientAddress(new Headers())).toBeNull();
  });
});

describe("a throttle whose Redis is down", () => {
  it("lets sign-in go on and says so", async () => {
    // Port 1: nothing listens there. The error events are what the container logs; here they only need a listener.
    const down = new Redis("redis://127.0.0.1:1", {
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    down.on("error", () => {});
    const errors: unknown[] = [];
    const throttle = createSignInThrottle(
      createRedisFailureCounts(down, (error) => errors.push(error)),
      LIMITS,
    );
    const email = `throttle-down-${crypto.randomUUID()}@example.com`;
    await createUser(app.container.db, { email, password: PASSWORD });
    const user = await authorizeCredentials(
      app.container.db,
      { email, password: PASSWORD },
      { throttle, ip: "203.0.113.1" },
    );
    expect(user?.email).toBe(email);
    expect(errors.length).toBeGreaterThan(0);
    down.disconnect();
  });
});
