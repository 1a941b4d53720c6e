import { getContainer } from "~/server/container";
import { handleWebRequest } from "~/server/http/web-adapter";

/** The public catalog API under `next dev` or hosts without the production entry: the gateway core answers it. */
async function handle(request: Request): Promise<Response> {
  const container = await getContainer();
  return handleWebRequest(container.gateway, request, container.env.MAX_REQUEST_BODY_BYTES);
}

export { handle as GET, handle as POST };
