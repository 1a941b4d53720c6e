import { connection } from "next/server";
import { getContainer, type Container } from "./container";

/**
 * The container, for pages and the server components in them. `connection()` first marks what follows as
 * request-time, so that `next build` never renders it ahead of time and never reaches the operator's database (see
 * ContainerDuringBuildError). Route handlers, server actions and tRPC run per request and use getContainer().
 */
export async function requestContainer(): Promise<Container> {
  await connection();
  return getContainer();
}
