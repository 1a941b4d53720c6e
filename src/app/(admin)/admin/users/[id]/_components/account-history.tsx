"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import { HistoryTable } from "~/components/billing/history-table";
import { useTRPC } from "~/trpc/react";

/** Must match the page's prefetch, so that the first page arrives with the HTML. */
export const HISTORY_PAGE_SIZE = 25;

/** The account's billing history exactly as its owner sees it on their Billing page. */
export function AccountHistory({ userId }: { userId: string }) {
  const trpc = useTRPC();
  const history = useInfiniteQuery(
    trpc.admin.users.history.infiniteQueryOptions(
      { userId, limit: HISTORY_PAGE_SIZE },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  return <HistoryTable query={history} title="Billing history (as the customer sees it)" />;
}
