import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import * as schema from "~/server/db/schema";
import { migrate } from "~/server/db/migrate";
import { createUser } from "~/server/services/users";
import { createApiKey } from "~/server/services/api-keys";

const dir = mkdtempSync(path.join(tmpdir(), "pgl-"));
const client = new PGlite(dir);
const db = drizzle({ client, schema, casing: "snake_case" });
await migrate({ db, kind: "pglite", listen: async () => () => {}, notify: async () => {}, close: () => client.close() } as never);
const user = await createUser(db as never, { email: "bench@example.com", password: "password-123" });
const { key } = await createApiKey(db as never, { userId: user.id, name: "k" });
let n = 0;
const row = () => ({ id: `gen-${++n}-${Math.random().toString(36).slice(2)}`, user_id: user.id, api_key_id: key.id, model_id: "tollgate/echo",
  channel_id: null, provider: "demo", upstream_model: "echo", upstream_id: "chatcmpl-abcdef", streamed: false, cancelled: false,
  finish_reason: "stop", http_status: 200, error_type: null, prompt_tokens: 10, completion_tokens: 20, cached_tokens: 0,
  cache_write_tokens: 0, reasoning_tokens: 0, billing_status: "exact", image_count: 0, cost_nano: "1234",
  upstream_cost_nano: null, attempts: null, latency_ms: 5, time_to_first_token_ms: null, created_at: new Date().toISOString() });
const cols = "id text, user_id text, api_key_id uuid, model_id text, channel_id uuid, provider text, upstream_model text, upstream_id text, streamed boolean, cancelled boolean, finish_reason text, http_status integer, error_type text, prompt_tokens integer, completion_tokens integer, cached_tokens integer, cache_write_tokens integer, reasoning_tokens integer, billing_status billing_status, image_count integer, cost_nano bigint, upstream_cost_nano bigint, attempts jsonb, latency_ms integer, time_to_first_token_ms integer, created_at timestamptz";
const names = cols.split(", ").map((c) => c.split(" ")[0]).join(", ");
const variants: Record<string, (rows: unknown[]) => Promise<unknown>> = {
  returning: (rows) => client.query(`insert into generations (${names}) select ${names} from jsonb_to_recordset($1::jsonb) as g(${cols}) on conflict (id) do nothing returning id`, [JSON.stringify(rows)]),
  plain: (rows) => client.query(`insert into generations (${names}) select ${names} from jsonb_to_recordset($1::jsonb) as g(${cols}) on conflict (id) do nothing`, [JSON.stringify(rows)]),
};
const compact = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null && v !== false && v !== 0));
const arr = (rows: Record<string, unknown>[]) => rows.map((r) => Object.values(r));
const colNames = names.split(", ");
const colTypes = cols.split(", ").map((c) => c.split(" ").slice(1).join(" "));
const fromArrays = colNames.map((c, i) => `(r->>${i})::${colTypes[i]} as ${c}`).join(", ");
const sel = colNames.map((c, i) => (["boolean", "integer", "bigint"].includes(colTypes[i]!) && !["upstream_cost_nano", "time_to_first_token_ms"].includes(c)) ? `coalesce(${c}, ${colTypes[i] === "boolean" ? "false" : "0"})` : c).join(", ");
variants.compact = (rows) => client.query(`insert into generations (${names}) select ${sel} from jsonb_to_recordset($1::jsonb) as g(${cols}) on conflict (id) do nothing`, [JSON.stringify((rows as Record<string, unknown>[]).map(compact))]);
variants.jsontext = (rows) => client.query(`insert into generations (${names}) select ${names} from json_to_recordset($1::json) as g(${cols}) on conflict (id) do nothing`, [JSON.stringify(rows)]);
variants.arrays = (rows) => client.query(`insert into generations (${names}) select ${names} from (select ${fromArrays} from jsonb_array_elements($1::jsonb) as r) g on conflict (id) do nothing`, [JSON.stringify(arr(rows as Record<string, unknown>[]))]);
variants.paramonly = (rows) => client.query(`select length($1::text)`, [JSON.stringify(rows)]);
const totals: Record<string, number> = { returning: 0, plain: 0, compact: 0, jsontext: 0, arrays: 0, paramonly: 0 };
if (process.argv[2] === "noidx") {
  await client.query("drop index generations_user_id_created_at_index");
  await client.query("drop index generations_api_key_id_created_at_index");
}
if (process.argv[2] === "nofk") {
  await client.query("alter table generations drop constraint generations_user_id_users_id_fk");
  await client.query("alter table generations drop constraint generations_api_key_id_api_keys_id_fk");
  await client.query("alter table generations drop constraint generations_channel_id_channels_id_fk");
}
for (let round = 0; round < 40; round++) {
  for (const [name, f] of Object.entries(variants)) {
    const rows = Array.from({ length: 200 }, row);
    const c = process.cpuUsage();
    await f(rows);
    const u = process.cpuUsage(c);
    if (round >= 5) totals[name]! += u.user + u.system;
  }
}
for (const [name, t] of Object.entries(totals)) console.log(name, (t / (35 * 200)).toFixed(1), "µs/row");
await client.close();
