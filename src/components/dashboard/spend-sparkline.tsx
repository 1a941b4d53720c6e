"use client";

import { Area, AreaChart, YAxis } from "recharts";

const WIDTH = 120;
const HEIGHT = 32;

/** "$12.35", "$0.000066": cents from a cent up, two significant digits below (the figures are per-day floats). */
export function formatApproxUsd(value: number): string {
  if (value === 0) return "$0.00";
  if (value >= 0.01) {
    return `$${value.toLocaleString("en-GB", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  }
  return `$${value.toPrecision(2).replace(/0+$/, "")}`;
}

/**
 * A key's spend per day as a small area chart without axes, today at the right; `days` undefined (no calls in the
 * window) shows an empty state of the same size. Screen readers get the window's total.
 */
export function SpendSparkline({ days, dayCount }: { days: readonly number[] | undefined; dayCount: number }) {
  if (days === undefined) {
    return (
      <div className="sparkline sparkline--empty" role="img" aria-label={`No calls in the last ${dayCount} days`}>
        No calls
      </div>
    );
  }
  const total = days.reduce((sum, usd) => sum + usd, 0);
  const points = days.map((usd, day) => ({ day, usd }));
  return (
    <div
      className="sparkline"
      role="img"
      aria-label={`Spend over the last ${dayCount} days: ${formatApproxUsd(total)} total`}
      data-testid="spend-sparkline"
    >
      <AreaChart
        width={WIDTH}
        height={HEIGHT}
        data={points}
        margin={{ top: 2, right: 1, bottom: 1, left: 1 }}
        accessibilityLayer={false}
      >
        <YAxis hide domain={[0, "dataMax"]} />
        <Area
          type="monotone"
          dataKey="usd"
          stroke="#4338ca"
          strokeWidth={1.5}
          fill="#4338ca"
          fillOpacity={0.12}
          dot={false}
          activeDot={false}
          isAnimationActive={false}
        />
      </AreaChart>
    </div>
  );
}
