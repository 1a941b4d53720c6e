import { createTRPCRouter } from "../../../trpc";
import { addCredit } from "./add";
import { adjustCredit } from "./adjust";

export const adminCreditsRouter = createTRPCRouter({ add: addCredit, adjust: adjustCredit });
