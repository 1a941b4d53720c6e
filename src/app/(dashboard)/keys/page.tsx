import type { Metadata } from "next";
import { BalanceCard } from "~/components/dashboard/balance-card";
import { getQueryClient, HydrateClient, trpc } from "~/trpc/server";
import { CreateKeyForm } from "./_components/create-key-form";
import { KeyList } from "./_components/key-list";

export const metadata: Metadata = { title: "API keys" };

export default async function KeysPage() {
  const queryClient = getQueryClient();
  await Promise.all([
    queryClient.prefetchQuery(trpc.account.balance.queryOptions()),
    queryClient.prefetchQuery(trpc.keys.list.queryOptions()),
    queryClient.prefetchQuery(trpc.keys.models.queryOptions()),
    queryClient.prefetchQuery(trpc.activity.keySpendByDay.queryOptions()),
  ]);
  return (
    <HydrateClient>
      <div className="page-heading">
        <h1>API keys</h1>
        <p className="muted">
          Send a key as <code>Authorization: Bearer sk-gw-…</code> to <code>/v1/chat/completions</code>.
        </p>
      </div>
      <div className="dashboard-grid">
        <BalanceCard />
        <CreateKeyForm />
      </div>
      <KeyList />
    </HydrateClient>
  );
}
