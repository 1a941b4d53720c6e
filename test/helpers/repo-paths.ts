import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root, found from this file so tests do not depend on the working directory. */
export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The committed migrations. */
export const MIGRATIONS_FOLDER = path.join(REPO_ROOT, "drizzle");
