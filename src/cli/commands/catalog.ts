import path from "node:path";
import { exportCatalog, importCatalog, readCatalogFile } from "~/server/services/catalog";
import { CommandError, type CommandSpec } from "../command";

function hasCode(error: unknown, code: string): boolean {
  return error instanceof Error && "code" in error && error.code === code;
}

async function readCatalog(file: string) {
  try {
    return await readCatalogFile(file);
  } catch (error) {
    if (hasCode(error, "ENOENT")) throw new CommandError(`no such file: ${file}`);
    if (hasCode(error, "EISDIR")) throw new CommandError(`${file} is a directory`);
    if (error instanceof SyntaxError) throw new CommandError(`${file} is not valid JSON: ${error.message}`);
    throw error;
  }
}

export const catalogImport: CommandSpec = {
  path: ["catalog", "import"],
  summary: "Import models and list prices from a catalog file; every channel's endpoints are re-priced",
  positionals: [{ name: "FILE", description: "A catalog JSON file (the format of src/server/catalog/catalog.json)" }],
  options: {},
  localize(input, invoker) {
    // A server behind the control socket has its own working directory.
    if (invoker === null) return input;
    return { ...input, positionals: input.positionals.map((file) => path.resolve(invoker.cwd, file)) };
  },
  async run(input, { db, changes, actor }) {
    const file = input.positionals[0]!;
    const models = await readCatalog(file);
    const counts = await importCatalog(db, changes, models, actor);
    return {
      text: `Imported ${counts.models} model${counts.models === 1 ? "" : "s"} from ${file}; ${counts.endpoints} channel endpoint${counts.endpoints === 1 ? "" : "s"} now at the new prices`,
      json: { file, models: counts.models, endpoints: counts.endpoints },
    };
  },
};

export const catalogExport: CommandSpec = {
  path: ["catalog", "export"],
  summary: "Print every model with its list prices as a catalog file, for editing and importing back",
  options: {},
  async run(_input, { db }) {
    const file = await exportCatalog(db);
    // The catalog file itself either way: `catalog export > catalog.json`.
    return { text: JSON.stringify(file, null, 2), json: file };
  },
};

export const catalogCommands = [catalogImport, catalogExport];
