import "server-only";

import { dehydrate, HydrationBoundary } from "@tanstack/react-query";
import { createTRPCOptionsProxy } from "@trpc/tanstack-react-query";
import { headers } from "next/headers";
import { cache, createElement, type ReactNode } from "react";
import { appRouter, createCaller } from "~/server/api/root";
import { createTRPCContext } from "~/server/api/trpc";
import { auth } from "~/server/auth";
import { makeQueryClient } from "./query-client";

/** One context per React Server Components request, however many procedures a page calls. */
const createContext = cache(async () => {
  const requestHeaders = new Headers(await headers());
  requestHeaders.set("x-trpc-source", "rsc");
  return createTRPCContext({ headers: requestHeaders, session: await auth() });
});

export const getQueryClient = cache(makeQueryClient);

/** Query options for prefetching in server components: `queryClient.prefetchQuery(trpc.keys.list.queryOptions())`. */
export const trpc = createTRPCOptionsProxy({ ctx: createContext, router: appRouter, queryClient: getQueryClient });

/** Direct calls from server components and actions: `await api.account.me()`. */
export const api = createCaller(createContext);

/** Hands what the server prefetched to the client components below, so they do not fetch it again. */
export function HydrateClient({ children }: { children: ReactNode }) {
  return createElement(HydrationBoundary, { state: dehydrate(getQueryClient()) }, children);
}
