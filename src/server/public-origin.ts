import { headers } from "next/headers";
import { getContainer } from "~/server/container";

/** Where clients should send requests: PUBLIC_URL when configured, else the host this page was asked for. */
export async function publicOrigin(): Promise<string> {
  const { env } = await getContainer();
  if (env.PUBLIC_URL !== undefined) return env.PUBLIC_URL.replace(/\/+$/, "");
  const requestHeaders = await headers();
  const host = requestHeaders.get("x-forwarded-host") ?? requestHeaders.get("host") ?? `localhost:${env.PORT}`;
  const protocol = requestHeaders.get("x-forwarded-proto") ?? "http";
  return `${protocol}://${host}`;
}
