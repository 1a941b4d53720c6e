import { createTRPCRouter } from "../../../trpc";
import { listAudit } from "./list";

export const adminAuditRouter = createTRPCRouter({ list: listAudit });
