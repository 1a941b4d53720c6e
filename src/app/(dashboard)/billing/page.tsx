import type { Metadata } from "next";
import { getQueryClient, HydrateClient, trpc } from "~/trpc/server";
import { AutoTopUpCard } from "./_components/auto-top-up-card";
import { BalanceOverview } from "./_components/balance-overview";
import { LedgerTable } from "./_components/ledger-table";
import { PromoCodeForm } from "./_components/promo-code-form";
import { TopUpCard } from "./_components/top-up-card";

export const metadata: Metadata = { title: "Billing" };

const LEDGER_PAGE_SIZE = 25;

export default async function BillingPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  // Stripe Checkout sends the customer back with ?topup=success or ?topup=cancelled.
  const { topup } = await searchParams;
  const queryClient = getQueryClient();
  await Promise.all([
    queryClient.prefetchQuery(trpc.billing.overview.queryOptions()),
    queryClient.prefetchQuery(trpc.billing.topUpOptions.queryOptions()),
    queryClient.prefetchQuery(trpc.billing.autoTopUp.queryOptions()),
    queryClient.prefetchInfiniteQuery(
      trpc.billing.history.infiniteQueryOptions(
        { limit: LEDGER_PAGE_SIZE },
        { getNextPageParam: (page) => page.nextCursor ?? undefined },
      ),
    ),
  ]);
  return (
    <HydrateClient>
      <div className="page-heading">
        <h1>Billing</h1>
        <p className="muted">Prepaid credit in USD; each request is billed per token from your balance.</p>
      </div>
      {topup === "success" && (
        // The redirect proves nothing: credit comes only from Stripe's signed webhook.
        <p className="alert alert--success" role="status">
          Payment received — your balance updates as soon as Stripe confirms it.
        </p>
      )}
      {topup === "cancelled" && (
        <p className="alert alert--info" role="status">
          Top-up cancelled; nothing was charged.
        </p>
      )}
      <BalanceOverview awaitingPayment={topup === "success"} />
      <div className="billing-grid">
        <TopUpCard />
        <div className="stack">
          <AutoTopUpCard />
          <PromoCodeForm />
        </div>
      </div>
      <LedgerTable pageSize={LEDGER_PAGE_SIZE} />
    </HydrateClient>
  );
}
