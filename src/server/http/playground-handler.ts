import type { Session } from "next-auth";
import type { Container } from "~/server/container";
import { GatewayError } from "~/server/gateway/errors";
import { playgroundKeyFor } from "~/server/services/playground-key";
import { forwardWebRequest } from "./web-adapter";

function refusal(status: number, code: string, message: string): Response {
  const {
    status: _status,
    headers,
    body,
  } = new GatewayError(
    status,
    status === 401 ? "authentication_error" : "permission_error",
    code,
    message,
  ).toResponse();
  return new Response(body as string, { status, headers });
}

/**
 * Browsers mark every request with where it came from; only the dashboard's own pages may spend the account's money
 * through its session cookie. (Clients that send no such header are not browsers, and carry the cookie on purpose.)
 */
function isCrossSite(request: Request): boolean {
  const site = request.headers.get("sec-fetch-site");
  return site !== null && site !== "same-origin" && site !== "none";
}

/**
 * POST /api/playground/chat: a chat completion for the signed-in account, made with the account's playground key
 * through the gateway core exactly as a /v1/chat/completions call would be (admission, holds, limits, failover,
 * billing, the request log). The body is the client's chat completion request; the answer is the gateway's, streamed
 * or not, OpenAI-shaped errors included. Closing the request aborts the call, which is billed for what was used.
 */
export async function handlePlaygroundChat(
  request: Request,
  session: Session | null,
  container: Pick<Container, "db" | "changes" | "authSecret" | "gateway" | "env">,
): Promise<Response> {
  const userId = session?.user?.id;
  if (userId === undefined || userId === "") {
    return refusal(401, "not_signed_in", "Sign in to use the playground.");
  }
  if (isCrossSite(request)) {
    return refusal(403, "cross_site_request", "The playground answers its own pages only.");
  }
  const key = await playgroundKeyFor(container.db, container.changes, container.authSecret, userId);
  return forwardWebRequest(container.gateway, request, container.env.MAX_REQUEST_BODY_BYTES, {
    path: "/v1/chat/completions",
    headers: {
      authorization: `Bearer ${key}`,
      "content-type": request.headers.get("content-type") ?? "",
      "user-agent": "tollgate-playground",
    },
  });
}
