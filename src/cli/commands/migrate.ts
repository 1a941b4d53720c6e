import { migrate } from "~/server/db/migrate";
import type { CommandSpec } from "../command";

export const migrateCommand: CommandSpec = {
  path: ["migrate"],
  summary: "Apply pending database migrations",
  options: {},
  async run(_input, { database, origin }) {
    if (origin === "server") {
      return {
        text: "The running server applied all migrations when it started; nothing to do",
        json: { applied: true, by: "server" },
      };
    }
    await migrate(database);
    return {
      text: `Migrations applied (${database.kind})`,
      json: { applied: true, by: "cli", database: database.kind },
    };
  },
};
