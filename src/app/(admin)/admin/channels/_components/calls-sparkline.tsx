"use client";

import { Area, AreaChart, YAxis } from "recharts";

const WIDTH = 160;
const HEIGHT = 36;

/** A channel's last hour minute by minute: calls answered (green), and failures stacked on them (red, fill only: a
 * line along the top would read as failures where there were none). */
export function CallsSparkline({ requests, errors }: { requests: readonly number[]; errors: readonly number[] }) {
  const total = requests.reduce((sum, count) => sum + count, 0);
  const failed = errors.reduce((sum, count) => sum + count, 0);
  if (total === 0) {
    return (
      <div className="sparkline sparkline--empty" role="img" aria-label="No calls in the last hour">
        No calls
      </div>
    );
  }
  const points = requests.map((count, minute) => ({
    minute,
    ok: count - (errors[minute] ?? 0),
    failed: errors[minute] ?? 0,
  }));
  return (
    <div
      className="sparkline"
      role="img"
      aria-label={`Last hour: ${total} calls, ${failed} failed`}
      data-testid="calls-sparkline"
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
          dataKey="ok"
          stackId="calls"
          stroke="#16a34a"
          fill="#16a34a"
          fillOpacity={0.15}
          dot={false}
          activeDot={false}
          isAnimationActive={false}
        />
        <Area
          type="monotone"
          dataKey="failed"
          stackId="calls"
          stroke="none"
          fill="#dc2626"
          fillOpacity={0.3}
          dot={false}
          activeDot={false}
          isAnimationActive={false}
        />
      </AreaChart>
    </div>
  );
}
