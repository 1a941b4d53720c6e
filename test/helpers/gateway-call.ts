import type { Gateway, GatewayResponse } from "~/server/gateway";

/** A gateway response's whole body as text, whichever form the handler gave it (string, bytes or a stream). */
export async function readGatewayBody(response: GatewayResponse): Promise<string> {
  const { body } = response;
  if (typeof body === "string") return body;
  if (body instanceof Uint8Array) return new TextDecoder().decode(body);
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of body) text += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

/** POST /v1/chat/completions in process, as a client with `key` would send it. */
export function chatInProcess(gateway: Gateway, key: string, model = "tollgate/echo", content = "hi") {
  return gateway.handle({
    method: "POST",
    path: "/v1/chat/completions",
    query: new URLSearchParams(),
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: Buffer.from(JSON.stringify({ model, messages: [{ role: "user", content }] })),
    signal: new AbortController().signal,
  });
}
