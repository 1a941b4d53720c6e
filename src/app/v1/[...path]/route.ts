import { getContainer } from "~/server/container";
import { handleWebRequest } from "~/server/http/web-adapter";

/** /v1 under `next dev` or hosts without the production entry: the same gateway core through a Web adapter. */
async function handle(request: Request): Promise<Response> {
  const container = await getContainer();
  return handleWebRequest(container.gateway, request, container.env.MAX_REQUEST_BODY_BYTES);
}

export { handle as GET, handle as POST, handle as PUT, handle as PATCH, handle as DELETE };
