import { headers } from "next/headers";
import type { Env } from "~/env";
import { requestContainer } from "~/server/request-container";

/** PUBLIC_URL when configured, else the origin the request was made to (as the reverse proxy in front reports it). */
export function originFrom(env: Pick<Env, "PUBLIC_URL" | "PORT">, requestHeaders: Headers): string {
  if (env.PUBLIC_URL !== undefined) return env.PUBLIC_URL.replace(/\/+$/, "");
  const host = requestHeaders.get("x-forwarded-host") ?? requestHeaders.get("host") ?? `localhost:${env.PORT}`;
  const protocol = requestHeaders.get("x-forwarded-proto") ?? "http";
  return `${protocol}://${host}`;
}

/** Where clients should send requests, and where mailed links point: see originFrom. */
export async function publicOrigin(): Promise<string> {
  const { env } = await requestContainer();
  return originFrom(env, await headers());
}
