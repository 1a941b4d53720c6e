import { auth } from "~/server/auth";
import { getContainer } from "~/server/container";
import { handlePlaygroundChat } from "~/server/http/playground-handler";

/** The playground's chat completions: the signed-in account's, through the gateway core (see the handler). */
export async function POST(request: Request): Promise<Response> {
  return handlePlaygroundChat(request, await auth(), await getContainer());
}
