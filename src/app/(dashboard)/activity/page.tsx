import type { Metadata } from "next";
import { getQueryClient, HydrateClient, trpc } from "~/trpc/server";
import { ActivityView, DEFAULT_VIEW, LOG_PAGE_SIZE } from "./_components/activity-view";
import "./activity.css";

export const metadata: Metadata = { title: "Activity" };

export default async function ActivityPage() {
  const queryClient = getQueryClient();
  // The first view's data arrives with the HTML: the same inputs the client asks with.
  await Promise.all([
    queryClient.prefetchQuery(trpc.activity.summary.queryOptions(DEFAULT_VIEW.summary)),
    queryClient.prefetchQuery(trpc.activity.filterOptions.queryOptions()),
    queryClient.prefetchInfiniteQuery(
      trpc.activity.log.infiniteQueryOptions(
        { ...DEFAULT_VIEW.log, limit: LOG_PAGE_SIZE },
        { getNextPageParam: (page) => page.nextCursor ?? undefined },
      ),
    ),
  ]);
  return (
    <HydrateClient>
      <div className="page-heading">
        <h1>Activity</h1>
        <p className="muted">What you spent, on which models and keys, request by request. Times are UTC.</p>
      </div>
      <ActivityView />
    </HydrateClient>
  );
}
