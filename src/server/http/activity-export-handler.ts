import type { Session } from "next-auth";
import { z } from "zod";
import { getContainer } from "~/server/container";
import { activityWindow, ActivityInputError, requestLogFilterSchema } from "~/server/services/activity";
import { dailyActivityCsv, requestLogCsv } from "~/server/services/activity-export";

/** The export's query string: the activity page's filters, as text. */
const exportQuerySchema = requestLogFilterSchema.extend({
  kind: z.enum(["requests", "daily"]),
  streamed: z
    .enum(["true", "false"])
    .transform((value) => value === "true")
    .nullish(),
});

function plain(status: number, message: string): Response {
  return new Response(`${message}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

/** Pulls the next piece of the CSV only when the client has read the last one: memory stays one page. */
function streamOf(pieces: AsyncGenerator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await pieces.next();
        if (next.done === true) controller.close();
        else controller.enqueue(next.value);
      },
      async cancel() {
        await pieces.return(undefined);
      },
    },
    { highWaterMark: 1 },
  );
}

/**
 * GET /api/activity/export?kind=requests|daily&range=…: the signed-in account's request log (one line per
 * generation, newest first) or its daily totals per model, provider and key, as CSV streamed from the database a
 * page at a time. Only the session's own account: there is no parameter naming another.
 */
export async function handleActivityExport(request: Request, session: Session | null): Promise<Response> {
  const userId = session?.user?.id;
  if (userId === undefined || userId === "") return plain(401, "Sign in first.");
  const query = Object.fromEntries(new URL(request.url).searchParams);
  const parsed = exportQuerySchema.safeParse(query);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return plain(400, `Bad ${issue?.path.join(".") || "query"}: ${issue?.message ?? "invalid"}`);
  }
  const now = new Date();
  try {
    activityWindow(parsed.data, now);
  } catch (error) {
    if (error instanceof ActivityInputError) return plain(400, error.message);
    throw error;
  }
  const { database } = await getContainer();
  const { kind, ...filter } = parsed.data;
  const pieces =
    kind === "requests"
      ? requestLogCsv(database, userId, filter, now)
      : dailyActivityCsv(database.db, userId, filter, now);
  const day = now.toISOString().slice(0, 10);
  return new Response(streamOf(pieces), {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="tollgate-${kind}-${day}.csv"`,
      "cache-control": "no-store",
    },
  });
}
