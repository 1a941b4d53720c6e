import { asc, count, eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "~/server/db";
import { modelEndpoints, models } from "~/server/db/schema";
import type { ChangeBus } from "~/server/changes";
import { catalogModelSchema, type CatalogModel } from "~/server/catalog/catalog-file";
import type { AuditActor } from "./audit-actor";
import { changedFields, recordAudit } from "./audit-log";
import { modelRowFromCatalog } from "./catalog";
import { NotFoundError } from "./users";
import { ServiceError } from "./service-error";

export type ModelRow = typeof models.$inferSelect;

export class ModelExistsError extends ServiceError {
  constructor(id: string) {
    super("conflict", `A model ${id} already exists`);
    this.name = "ModelExistsError";
  }
}

/** What an admin may change about a model besides its endpoints' prices; omitted fields stay. */
export const modelPatchSchema = catalogModelSchema
  .pick({
    name: true,
    description: true,
    contextLength: true,
    maxOutputTokens: true,
    inputModalities: true,
    outputModalities: true,
    supportedParameters: true,
  })
  .partial()
  .extend({ enabled: z.boolean().optional() })
  .strict();
export type ModelPatch = z.infer<typeof modelPatchSchema>;

/** Every model, enabled or not, with how many endpoints serve it (and how many of those are enabled). */
export async function listModelsForAdmin(
  db: Database,
): Promise<(ModelRow & { endpointCount: number; enabledEndpointCount: number })[]> {
  const counts = db
    .select({
      modelId: modelEndpoints.modelId,
      endpoints: count().as("endpoints"),
      enabledEndpoints: sql<number>`count(*) filter (where ${modelEndpoints.enabled})`.as("enabled_endpoints"),
    })
    .from(modelEndpoints)
    .groupBy(modelEndpoints.modelId)
    .as("counts");
  const rows = await db
    .select({ model: models, endpoints: counts.endpoints, enabledEndpoints: counts.enabledEndpoints })
    .from(models)
    .leftJoin(counts, eq(counts.modelId, models.id))
    .orderBy(asc(models.id));
  return rows.map(({ model, endpoints, enabledEndpoints }) => ({
    ...model,
    endpointCount: Number(endpoints ?? 0),
    enabledEndpointCount: Number(enabledEndpoints ?? 0),
  }));
}

export async function requireModel(db: Database, modelId: string): Promise<ModelRow> {
  const [model] = await db.select().from(models).where(eq(models.id, modelId)).limit(1);
  if (model === undefined) throw new NotFoundError(`No model ${modelId}`);
  return model;
}

/** The fields of a model an audit row shows (list prices are the catalog file's business). */
function auditedModelFields(model: ModelRow): Record<string, unknown> {
  return {
    name: model.name,
    description: model.description,
    contextLength: model.contextLength,
    maxOutputTokens: model.maxOutputTokens,
    inputModalities: model.inputModalities,
    outputModalities: model.outputModalities,
    supportedParameters: model.supportedParameters,
    enabled: model.enabled,
  };
}

/**
 * Adds a model with its list prices, which new endpoints start from; channels serve it once an endpoint is added
 * (a channel's models, or a catalog import for its author's native channels).
 */
export async function createModel(
  db: Database,
  changes: ChangeBus,
  input: CatalogModel,
  actor: AuditActor,
): Promise<ModelRow> {
  const created = await db.transaction(async (tx) => {
    const [row] = await tx.insert(models).values(modelRowFromCatalog(input)).onConflictDoNothing().returning();
    if (row === undefined) throw new ModelExistsError(input.id);
    await recordAudit(tx, actor, {
      action: "model.create",
      target: { type: "model", id: row.id, label: row.name },
      after: { ...auditedModelFields(row), pricing: input.pricing },
    });
    return row;
  });
  await changes.publish({ topic: "catalog-changed" });
  return created;
}

/** Edits a model's metadata or enables/disables it (a disabled model is refused by every gateway, 404). */
export async function updateModel(
  db: Database,
  changes: ChangeBus,
  modelId: string,
  patch: ModelPatch,
  actor: AuditActor,
): Promise<ModelRow> {
  const updated = await db.transaction(async (tx) => {
    const [before] = await tx.select().from(models).where(eq(models.id, modelId)).for("update").limit(1);
    if (before === undefined) throw new NotFoundError(`No model ${modelId}`);
    const [after] = await tx
      .update(models)
      .set({ ...patch, updatedAt: new Date() })
      .where(eq(models.id, modelId))
      .returning();
    if (after === undefined) throw new Error("model update returned nothing");
    const changed = changedFields(auditedModelFields(before), auditedModelFields(after));
    if (Object.keys(changed.after).length > 0) {
      const action =
        Object.keys(changed.after).length === 1 && "enabled" in changed.after
          ? after.enabled
            ? "model.enable"
            : "model.disable"
          : "model.update";
      await recordAudit(tx, actor, { action, target: { type: "model", id: after.id, label: after.name }, ...changed });
    }
    return after;
  });
  await changes.publish({ topic: "catalog-changed" });
  return updated;
}
