"use client";

import { useQuery } from "@tanstack/react-query";
import { formatUsd } from "~/components/ui/format";
import { useTRPC } from "~/trpc/react";

export function BalanceCard() {
  const trpc = useTRPC();
  const balance = useQuery(trpc.account.balance.queryOptions());
  return (
    <section className="card stat" aria-labelledby="balance-heading">
      <h2 id="balance-heading" className="stat__label">
        Balance
      </h2>
      <p className="stat__value" data-testid="balance">
        {balance.data !== undefined ? formatUsd(balance.data.balanceUsd) : balance.isError ? "—" : "…"}
      </p>
      <p className="muted small">
        {balance.data !== undefined && balance.data.balanceNano <= 0n
          ? "Requests to paid models are refused until credit is added."
          : "Prepaid credit; each request is billed per token."}
      </p>
    </section>
  );
}
