import { createTRPCRouter } from "../../../trpc";
import { getUser } from "./get";
import { userHistory } from "./history";
import { listUsers } from "./list";
import { setUserDisabled } from "./set-disabled";
import { setUserRateLimits } from "./set-rate-limits";

export const adminUsersRouter = createTRPCRouter({
  list: listUsers,
  get: getUser,
  history: userHistory,
  setDisabled: setUserDisabled,
  setRateLimits: setUserRateLimits,
});
