import { sql } from "drizzle-orm";
import { getContainer } from "~/server/container";

/** Liveness and readiness in one: the process answers and its database does. */
export async function GET(): Promise<Response> {
  try {
    const { db } = await getContainer();
    await db.execute(sql`select 1`);
    return Response.json({ status: "ok" }, { headers: { "cache-control": "no-store" } });
  } catch {
    return Response.json(
      { status: "error", error: "database unavailable" },
      { status: 503, headers: { "cache-control": "no-store" } },
    );
  }
}
