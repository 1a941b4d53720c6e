import { NextRequest } from "next/server";
import { handlers } from "~/server/auth";
import { getContainer } from "~/server/container";
import { originFrom } from "~/server/public-origin";

/** Hosts that Next's URL handling rewrites to `localhost`. */
const LOOPBACK_LITERAL = /^(127(?:\.\d{1,3}){3}|\[::1\])$/;

/**
 * Auth.js builds a provider's callback address (`redirect_uri`) from the request's URL, and the provider compares the
 * address of the sign-in with that of the callback exactly. Behind the production entry Next reports the address it
 * was started on, not the one the browser used; so the URL is rebuilt from the Host (or X-Forwarded-Host) the browser
 * sent, which is what the sign-in that started the flow used (Auth.js's createActionURL). A NextRequest would turn
 * 127.0.0.1 into localhost again, so for a loopback address the request handed on is a plain one (Auth.js reads
 * only its URL, headers and body).
 */
async function asBrowserSawIt(request: NextRequest): Promise<NextRequest> {
  const { env } = await getContainer();
  const origin = originFrom({ PUBLIC_URL: undefined, PORT: env.PORT }, request.headers);
  const url = new URL(`${request.nextUrl.pathname}${request.nextUrl.search}`, origin);
  if (url.href === request.url) return request;
  return LOOPBACK_LITERAL.test(url.hostname)
    ? (new Request(url, request) as NextRequest)
    : new NextRequest(url, request);
}

export async function GET(request: NextRequest): Promise<Response> {
  return handlers.GET(await asBrowserSawIt(request));
}

export async function POST(request: NextRequest): Promise<Response> {
  return handlers.POST(await asBrowserSawIt(request));
}
