"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import { HistoryTable } from "~/components/billing/history-table";
import { useTRPC } from "~/trpc/react";

/**
 * The account's history, newest first. `pageSize` must match the page's server-side prefetch, so that the first page
 * arrives with the HTML.
 */
export function LedgerTable({ pageSize }: { pageSize: number }) {
  const trpc = useTRPC();
  const history = useInfiniteQuery(
    trpc.billing.history.infiniteQueryOptions(
      { limit: pageSize },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  return <HistoryTable query={history} />;
}
