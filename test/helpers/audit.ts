import type { AuditActor } from "~/server/services/audit-actor";

/** The admin a test's own setup acts as, where a service records admin actions. */
export const TEST_ACTOR: AuditActor = { userId: null, label: "test-setup", via: "cli" };

/** How a test's own balance corrections are recorded (adjustCredits). */
export const TEST_ADJUSTMENT = { actor: TEST_ACTOR, targetLabel: "test account" };
