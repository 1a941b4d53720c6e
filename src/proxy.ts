import { NextResponse, type NextRequest } from "next/server";
import { REQUEST_PATH_HEADER } from "~/server/auth/return-path";

/**
 * Tells the dashboard layout which page was asked for, so that a signed-out visitor is sent to sign in and then back
 * to that page. Only a header: the real guard is the layout (and every tRPC procedure).
 */
export function proxy(request: NextRequest): NextResponse {
  const headers = new Headers(request.headers);
  headers.set(REQUEST_PATH_HEADER, `${request.nextUrl.pathname}${request.nextUrl.search}`);
  return NextResponse.next({ request: { headers } });
}

export const config = {
  matcher: ["/activity/:path*", "/keys/:path*", "/billing/:path*", "/account/:path*", "/playground/:path*"],
};
