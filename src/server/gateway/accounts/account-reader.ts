import { and, eq, gt, sql } from "drizzle-orm";
import type { Database } from "~/server/db";
import { rowsOf } from "~/server/db/raw-rows";
import { apiKeys, generations, ledgerEntries } from "~/server/db/schema";
import type { KeyLimitReset } from "../billing/balance-holds";
import type { GenerationRow } from "../billing/usage-writer";

/** Spend of one key, in nano-USD, over its whole life and the current UTC day, week (from Monday) and month. */
export interface KeySpend {
  totalNano: bigint;
  dailyNano: bigint;
  weeklyNano: bigint;
  monthlyNano: bigint;
}

export interface KeyDetails {
  name: string;
  prefix: string;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  disabledAt: Date | null;
  allowedModels: string[] | null;
  spendLimitNano: bigint | null;
  limitReset: KeyLimitReset | null;
  /** Settled spend since `periodStartedAt`, which may be a period that has ended. */
  periodSpendNano: bigint;
  periodStartedAt: Date | null;
}

export interface AccountTotals {
  /** Every credit ever added (top-ups, promos, adjustments) net of refunds and disputes. */
  totalCreditsNano: bigint;
  /** Every usage debit. */
  totalUsageNano: bigint;
}

export type StoredGeneration = GenerationRow;

/** One account's usage on one UTC day for one model through one provider (from the hourly rollup). */
export interface DailyActivity {
  /** YYYY-MM-DD */
  date: string;
  modelId: string;
  provider: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  reasoningTokens: number;
  costNano: bigint;
}

/** The read side of /v1's account endpoints (`/v1/key`, `/v1/credits`, `/v1/generation`). */
export interface AccountReader {
  keyDetails(apiKeyId: string): Promise<KeyDetails | null>;
  keySpend(apiKeyId: string, now: Date): Promise<KeySpend>;
  totals(userId: string): Promise<AccountTotals>;
  /**
   * Whether the account was ever credited (a top-up, promo or positive adjustment): tells a never-funded account from
   * one that spent its balance. Asked only when a call is refused for want of credit.
   */
  wasEverCredited(userId: string): Promise<boolean>;
  /** One generation of this user, or null (another user's generation is as good as missing). */
  generation(userId: string, id: string): Promise<StoredGeneration | null>;
  /** The id of this account's key named by id or display prefix, or null (another account's key included). */
  findKeyId(userId: string, idOrPrefix: string): Promise<string | null>;
  /**
   * The account's usage per UTC day, model and provider for calls that started in [from, to), newest day first
   * (then by model and provider); only one key's calls when `apiKeyId` is given.
   */
  dailyActivity(userId: string, range: { from: Date; to: Date; apiKeyId: string | null }): Promise<DailyActivity[]>;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Start of the UTC day, ISO week (Monday) and month containing `now`. */
export function spendWindows(now: Date): { day: Date; week: Date; month: Date } {
  const day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const daysSinceMonday = (day.getUTCDay() + 6) % 7;
  const week = new Date(day.getTime() - daysSinceMonday * 86_400_000);
  const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  return { day, week, month };
}

export function createAccountReader(db: Database): AccountReader {
  return {
    async keyDetails(apiKeyId) {
      const [row] = await db
        .select({
          name: apiKeys.name,
          prefix: apiKeys.prefix,
          createdAt: apiKeys.createdAt,
          expiresAt: apiKeys.expiresAt,
          revokedAt: apiKeys.revokedAt,
          disabledAt: apiKeys.disabledAt,
          allowedModels: apiKeys.allowedModels,
          spendLimitNano: apiKeys.spendLimitNano,
          limitReset: apiKeys.limitReset,
          periodSpendNano: apiKeys.periodSpendNano,
          periodStartedAt: apiKeys.periodStartedAt,
        })
        .from(apiKeys)
        .where(eq(apiKeys.id, apiKeyId))
        .limit(1);
      return row ?? null;
    },

    async keySpend(apiKeyId, now) {
      const { day, week, month } = spendWindows(now);
      // One pass over the key's generations; the (api_key_id, created_at) index serves the windows.
      const [row] = rowsOf<{
        total: string | null;
        daily: string | null;
        weekly: string | null;
        monthly: string | null;
      }>(
        await db.execute(sql`
          select coalesce(sum(cost_nano), 0)::text as total,
                 coalesce(sum(cost_nano) filter (where created_at >= ${day.toISOString()}::timestamptz), 0)::text as daily,
                 coalesce(sum(cost_nano) filter (where created_at >= ${week.toISOString()}::timestamptz), 0)::text as weekly,
                 coalesce(sum(cost_nano) filter (where created_at >= ${month.toISOString()}::timestamptz), 0)::text as monthly
          from generations where api_key_id = ${apiKeyId}`),
      );
      return {
        totalNano: BigInt(row?.total ?? "0"),
        dailyNano: BigInt(row?.daily ?? "0"),
        weeklyNano: BigInt(row?.weekly ?? "0"),
        monthlyNano: BigInt(row?.monthly ?? "0"),
      };
    },

    async totals(userId) {
      const [row] = rowsOf<{ credits: string; usage: string }>(
        await db.execute(sql`
          select coalesce(sum(amount_nano) filter (where kind <> 'usage'), 0)::text as credits,
                 coalesce(-sum(amount_nano) filter (where kind = 'usage'), 0)::text as usage
          from ledger_entries where user_id = ${userId}`),
      );
      return { totalCreditsNano: BigInt(row?.credits ?? "0"), totalUsageNano: BigInt(row?.usage ?? "0") };
    },

    async wasEverCredited(userId) {
      // In id order along the (user_id, id) index: stops at the first credit, usually the account's first entry.
      const [row] = await db
        .select({ id: ledgerEntries.id })
        .from(ledgerEntries)
        .where(and(eq(ledgerEntries.userId, userId), gt(ledgerEntries.amountNano, 0n)))
        .orderBy(ledgerEntries.id)
        .limit(1);
      return row !== undefined;
    },

    async generation(userId, id) {
      const [row] = await db
        .select()
        .from(generations)
        .where(and(eq(generations.id, id), eq(generations.userId, userId)))
        .limit(1);
      return row ?? null;
    },

    async findKeyId(userId, idOrPrefix) {
      const byId = UUID_PATTERN.test(idOrPrefix);
      const [row] = await db
        .select({ id: apiKeys.id })
        .from(apiKeys)
        .where(
          and(
            eq(apiKeys.userId, userId),
            byId ? eq(apiKeys.id, idOrPrefix.toLowerCase()) : eq(apiKeys.prefix, idOrPrefix),
          ),
        )
        .limit(1);
      return row?.id ?? null;
    },

    async dailyActivity(userId, { from, to, apiKeyId }) {
      const rows = rowsOf<{
        day: string;
        model_id: string;
        provider: string;
        requests: string;
        prompt_tokens: string;
        completion_tokens: string;
        reasoning_tokens: string;
        cost_nano: string;
      }>(
        await db.execute(sql`
          select to_char(date_trunc('day', hour, 'UTC') at time zone 'UTC', 'YYYY-MM-DD') as day, model_id, provider,
                 sum(requests)::text as requests, sum(prompt_tokens)::text as prompt_tokens,
                 sum(completion_tokens)::text as completion_tokens, sum(reasoning_tokens)::text as reasoning_tokens,
                 sum(cost_nano)::text as cost_nano
          from usage_hourly
          where user_id = ${userId} and hour >= ${from.toISOString()}::timestamptz
            and hour < ${to.toISOString()}::timestamptz
            ${apiKeyId === null ? sql`` : sql`and api_key_id = ${apiKeyId}::uuid`}
          group by 1, 2, 3
          order by 1 desc, 2, 3`),
      );
      return rows.map((row) => ({
        date: row.day,
        modelId: row.model_id,
        provider: row.provider,
        requests: Number(row.requests),
        promptTokens: Number(row.prompt_tokens),
        completionTokens: Number(row.completion_tokens),
        reasoningTokens: Number(row.reasoning_tokens),
        costNano: BigInt(row.cost_nano),
      }));
    },
  };
}
