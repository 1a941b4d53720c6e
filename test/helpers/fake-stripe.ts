import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";

/**
 * A local stand-in for the parts of Stripe's API that Tollgate calls (customers, Checkout Sessions, PaymentIntents,
 * charges), speaking the same wire format: form-encoded bodies with bracketed keys, JSON answers, Stripe's error
 * envelope, idempotency keys. Point the SDK at it with STRIPE_API_BASE. It records every request, can decline chosen
 * cards, and plays the customer's part (paying a session, refunding, disputing) to produce the objects that signed
 * webhook events then carry.
 */
export interface FakeStripe {
  /** `http://127.0.0.1:<port>`, for STRIPE_API_BASE. */
  url: string;
  requests: RecordedRequest[];
  customers: Map<string, FakeObject>;
  checkoutSessions: Map<string, FakeObject>;
  paymentIntents: Map<string, FakeObject>;
  charges: Map<string, FakeObject>;
  /** PaymentIntents confirmed with these payment methods fail with `card_declined`. */
  declinedPaymentMethods: Set<string>;
  /** The customer pays the session (or starts a delayed payment, `unpaid`); returns the session as Stripe has it. */
  completeCheckoutSession(
    id: string,
    options?: { paymentStatus?: "paid" | "unpaid"; paymentMethod?: string },
  ): FakeObject;
  /** A delayed payment of a completed session settles. */
  settleAsyncPayment(id: string, outcome: "paid" | "failed"): FakeObject;
  /** Refunds `cents` more of a charge; returns the charge with its cumulative `amount_refunded`. */
  refund(chargeId: string, cents: number): FakeObject;
  /** Opens a dispute over a charge (the whole amount unless given). */
  dispute(chargeId: string, cents?: number): FakeObject;
  close(): Promise<void>;
}

export type FakeObject = Record<string, unknown> & { id: string };

export interface RecordedRequest {
  method: string;
  path: string;
  /** The form body, unflattened: `metadata[user]=x` becomes `{ metadata: { user: "x" } }`; values stay strings. */
  body: Record<string, unknown>;
  idempotencyKey: string | null;
}

function newId(prefix: string): string {
  return `${prefix}_test_${randomBytes(8).toString("hex")}`;
}

/** `a[b][0][c]=v` → `{ a: { b: [{ c: "v" }] } }`, the way Stripe reads form bodies. */
export function parseStripeForm(text: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const path = key.replace(/\]/g, "").split("[");
    let node = root;
    path.forEach((segment, index) => {
      if (index === path.length - 1) node[segment] = value;
      else node = (node[segment] ??= {}) as Record<string, unknown>;
    });
  }
  const arrays = (value: unknown): unknown => {
    if (typeof value !== "object" || value === null) return value;
    const entries = Object.entries(value).map(([key, item]) => [key, arrays(item)] as const);
    return entries.length > 0 && entries.every(([key]) => /^\d+$/.test(key))
      ? entries.sort(([a], [b]) => Number(a) - Number(b)).map(([, item]) => item)
      : Object.fromEntries(entries);
  };
  return arrays(root) as Record<string, unknown>;
}

class StripeHttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: Record<string, unknown>,
  ) {
    super(String(error.message));
  }
}

function text(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

function record(value: unknown): Record<string, string> {
  return typeof value === "object" && value !== null ? (value as Record<string, string>) : {};
}

export async function startFakeStripe(): Promise<FakeStripe> {
  const requests: RecordedRequest[] = [];
  const customers = new Map<string, FakeObject>();
  const checkoutSessions = new Map<string, FakeObject>();
  const paymentIntents = new Map<string, FakeObject>();
  const charges = new Map<string, FakeObject>();
  const declinedPaymentMethods = new Set<string>();
  const idempotent = new Map<string, { status: number; body: unknown }>();

  function find(map: Map<string, FakeObject>, id: string, kind: string): FakeObject {
    const found = map.get(id);
    if (found === undefined) {
      throw new StripeHttpError(404, {
        type: "invalid_request_error",
        code: "resource_missing",
        message: `No such ${kind}: '${id}'`,
      });
    }
    return found;
  }

  function createCharge(intent: FakeObject): FakeObject {
    const charge: FakeObject = {
      id: newId("ch"),
      object: "charge",
      amount: intent.amount,
      amount_refunded: 0,
      currency: intent.currency,
      customer: intent.customer,
      payment_intent: intent.id,
      payment_method: intent.payment_method,
      refunded: false,
      status: "succeeded",
    };
    charges.set(charge.id, charge);
    return charge;
  }

  function createPaymentIntent(body: Record<string, unknown>): FakeObject {
    const intent: FakeObject = {
      id: newId("pi"),
      object: "payment_intent",
      amount: Number(body.amount),
      amount_received: 0,
      currency: text(body.currency) ?? "usd",
      customer: text(body.customer),
      payment_method: text(body.payment_method),
      metadata: record(body.metadata),
      setup_future_usage: text(body.setup_future_usage),
      status: "requires_payment_method",
      last_payment_error: null,
      latest_charge: null,
      livemode: false,
    };
    paymentIntents.set(intent.id, intent);
    if (body.confirm !== "true") return intent;
    const method = text(body.payment_method);
    if (method === null || declinedPaymentMethods.has(method)) {
      const error = {
        type: "card_error",
        code: "card_declined",
        decline_code: "generic_decline",
        message: "Your card was declined.",
      };
      Object.assign(intent, { last_payment_error: error, payment_method: null });
      throw new StripeHttpError(402, { ...error, payment_intent: intent });
    }
    const charge = createCharge(intent);
    Object.assign(intent, { status: "succeeded", amount_received: intent.amount, latest_charge: charge.id });
    return intent;
  }

  function route(method: string, path: string, body: Record<string, unknown>): FakeObject {
    const [, version, resource, id] = path.split("/");
    if (version !== "v1") throw new StripeHttpError(404, { type: "invalid_request_error", message: "Unknown path" });
    if (method === "POST" && resource === "customers" && id === undefined) {
      const customer: FakeObject = {
        id: newId("cus"),
        object: "customer",
        email: text(body.email),
        metadata: record(body.metadata),
      };
      customers.set(customer.id, customer);
      return customer;
    }
    if (method === "POST" && path === "/v1/checkout/sessions") {
      const items = (
        body.line_items as { quantity: string; price_data: { unit_amount: string; currency: string } }[]
      ).map((item) => ({
        amount: Number(item.price_data.unit_amount) * Number(item.quantity),
        currency: item.price_data.currency,
      }));
      const customer = text(body.customer);
      if (customer !== null) find(customers, customer, "customer");
      const sessionId = newId("cs");
      const session: FakeObject = {
        id: sessionId,
        object: "checkout.session",
        mode: text(body.mode),
        amount_total: items.reduce((sum, item) => sum + item.amount, 0),
        currency: items[0]?.currency ?? "usd",
        customer,
        client_reference_id: text(body.client_reference_id),
        metadata: record(body.metadata),
        payment_intent: null,
        payment_status: "unpaid",
        status: "open",
        success_url: text(body.success_url),
        cancel_url: text(body.cancel_url),
        url: `https://checkout.stripe.test/c/pay/${sessionId}`,
        livemode: false,
        // Kept to build the PaymentIntent when the customer pays, as Stripe does.
        payment_intent_data: body.payment_intent_data ?? {},
      };
      checkoutSessions.set(session.id, session);
      return publicSession(session);
    }
    if (method === "GET" && resource === "checkout" && path.startsWith("/v1/checkout/sessions/")) {
      return publicSession(find(checkoutSessions, path.slice("/v1/checkout/sessions/".length), "checkout.session"));
    }
    if (method === "POST" && resource === "payment_intents" && id === undefined) return createPaymentIntent(body);
    if (method === "GET" && resource === "payment_intents" && id !== undefined) {
      return find(paymentIntents, id, "payment_intent");
    }
    if (method === "GET" && resource === "charges" && id !== undefined) return find(charges, id, "charge");
    throw new StripeHttpError(404, {
      type: "invalid_request_error",
      message: `Unrecognized request URL (${method} ${path})`,
    });
  }

  function publicSession(session: FakeObject): FakeObject {
    const { payment_intent_data: _hidden, ...visible } = session;
    return structuredClone(visible);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const url = new URL(request.url ?? "/", "http://fake-stripe");
    const method = request.method ?? "GET";
    const body = parseStripeForm(method === "GET" ? url.search.slice(1) : Buffer.concat(chunks).toString("utf8"));
    const idempotencyKey = text(request.headers["idempotency-key"]);
    requests.push({ method, path: url.pathname, body, idempotencyKey });

    const send = (status: number, payload: unknown) => {
      response.writeHead(status, { "content-type": "application/json", "request-id": newId("req") });
      response.end(JSON.stringify(payload));
    };
    if (!/^Bearer sk_/.test(request.headers.authorization ?? "")) {
      return send(401, { error: { type: "invalid_request_error", message: "Invalid API Key provided" } });
    }
    const replayKey = idempotencyKey === null ? null : `${method} ${url.pathname} ${idempotencyKey}`;
    const replay = replayKey === null ? undefined : idempotent.get(replayKey);
    if (replay !== undefined) return send(replay.status, replay.body);
    let answer: { status: number; body: unknown };
    try {
      answer = { status: 200, body: route(method, url.pathname, body) };
    } catch (error) {
      if (!(error instanceof StripeHttpError)) throw error;
      answer = { status: error.status, body: { error: error.error } };
    }
    if (replayKey !== null && method === "POST") idempotent.set(replayKey, answer);
    send(answer.status, structuredClone(answer.body));
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      response.writeHead(500, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: { type: "api_error", message: String(error) } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    customers,
    checkoutSessions,
    paymentIntents,
    charges,
    declinedPaymentMethods,
    completeCheckoutSession(id, options = {}) {
      const session = find(checkoutSessions, id, "checkout.session");
      const data = session.payment_intent_data as { metadata?: unknown; setup_future_usage?: unknown };
      const intent = createPaymentIntent({
        amount: String(session.amount_total),
        currency: session.currency,
        customer: session.customer,
        payment_method: options.paymentMethod ?? newId("pm"),
        metadata: data.metadata,
        setup_future_usage: data.setup_future_usage,
        confirm: options.paymentStatus === "unpaid" ? "false" : "true",
      });
      if (options.paymentStatus === "unpaid") {
        Object.assign(intent, { status: "processing", payment_method: options.paymentMethod ?? newId("pm") });
      }
      Object.assign(session, {
        status: "complete",
        payment_status: options.paymentStatus ?? "paid",
        payment_intent: intent.id,
      });
      return publicSession(session);
    },
    settleAsyncPayment(id, outcome) {
      const session = find(checkoutSessions, id, "checkout.session");
      const intent = find(paymentIntents, String(session.payment_intent), "payment_intent");
      if (outcome === "paid") {
        const charge = createCharge(intent);
        Object.assign(intent, { status: "succeeded", amount_received: intent.amount, latest_charge: charge.id });
        session.payment_status = "paid";
      } else {
        Object.assign(intent, { status: "requires_payment_method" });
      }
      return publicSession(session);
    },
    refund(chargeId, cents) {
      const charge = find(charges, chargeId, "charge");
      const refunded = Number(charge.amount_refunded) + cents;
      if (refunded > Number(charge.amount)) throw new Error("Refund exceeds the charge");
      Object.assign(charge, { amount_refunded: refunded, refunded: refunded === charge.amount });
      return structuredClone(charge);
    },
    dispute(chargeId, cents) {
      const charge = find(charges, chargeId, "charge");
      return {
        id: newId("dp"),
        object: "dispute",
        amount: cents ?? charge.amount,
        currency: charge.currency,
        charge: charge.id,
        payment_intent: charge.payment_intent,
        reason: "fraudulent",
        status: "needs_response",
      };
    },
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

/** A Stripe event around `object`, as the raw body Stripe would POST and its `Stripe-Signature` header. */
export function signedStripeEvent(
  secret: string,
  type: string,
  object: Record<string, unknown>,
  options: { id?: string; signWith?: string } = {},
): { id: string; rawBody: string; signature: string } {
  const id = options.id ?? newId("evt");
  const rawBody = JSON.stringify({
    id,
    object: "event",
    api_version: Stripe.API_VERSION,
    created: Math.floor(Date.now() / 1000),
    type,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: { object },
  });
  const signature = Stripe.webhooks.generateTestHeaderString({ payload: rawBody, secret: options.signWith ?? secret });
  return { id, rawBody, signature };
}

export const TEST_STRIPE_WEBHOOK_SECRET = "whsec_test_tollgate";

/** Stripe settings for a test container: a fake secret key, the webhook secret above, the fake's address. */
export function stripeTestEnv(fake: FakeStripe, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    STRIPE_SECRET_KEY: "sk_test_tollgate",
    STRIPE_WEBHOOK_SECRET: TEST_STRIPE_WEBHOOK_SECRET,
    STRIPE_API_BASE: fake.url,
    PUBLIC_URL: "https://tollgate.test",
    ...overrides,
  };
}
