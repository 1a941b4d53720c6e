import { createTRPCRouter } from "../../../trpc";
import { findRequest } from "./find";

export const adminRequestsRouter = createTRPCRouter({ find: findRequest });
