import { handleActivityExport } from "~/server/http/activity-export-handler";
import { auth } from "~/server/auth";

/** CSV of the signed-in account's request log or daily totals, with the activity page's filters. */
export async function GET(request: Request): Promise<Response> {
  return handleActivityExport(request, await auth());
}
