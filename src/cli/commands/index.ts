import type { CommandSpec } from "../command";
import { backupCommands } from "./backup";
import { billingCommands } from "./billing";
import { catalogCommands } from "./catalog";
import { channelCommands } from "./channel";
import { creditsCommands } from "./credits";
import { keyCommands } from "./key";
import { migrateCommand } from "./migrate";
import { promoCommands } from "./promo";
import { secretsCommands } from "./secrets";
import { userCommands } from "./user";

/** Every command, in the order help lists them. */
export const commands: readonly CommandSpec[] = [
  ...userCommands,
  ...creditsCommands,
  ...billingCommands,
  ...keyCommands,
  ...promoCommands,
  ...channelCommands,
  ...catalogCommands,
  migrateCommand,
  ...backupCommands,
  ...secretsCommands,
];
