/**
 * The tRPC server setup: context, transformer, error shape and the procedure ladder
 * public → protected (signed in) → admin (role admin, confirmed in the database).
 */
import { initTRPC, TRPCError } from "@trpc/server";
import { eq } from "drizzle-orm";
import type { Session } from "next-auth";
import superjson from "superjson";
import { z, ZodError } from "zod";
import { getContainer, type Container } from "~/server/container";
import { users } from "~/server/db/schema";
import { consoleActor } from "~/server/services/audit-actor";
import { ServiceError, type ServiceErrorKind } from "~/server/services/service-error";

export interface TRPCContext {
  headers: Headers;
  session: Session | null;
  container: Container;
}

/**
 * The session is resolved by the caller (the route handler, the RSC helpers, or a test) so that this module does
 * not load next-auth's Next.js runtime and can be driven outside Next.
 */
export async function createTRPCContext(options: { headers: Headers; session: Session | null }): Promise<TRPCContext> {
  return { headers: options.headers, session: options.session, container: await getContainer() };
}

/** Input errors by field, for forms: `error.data.zodError.fieldErrors.email`. */
export interface InputErrors {
  formErrors: string[];
  fieldErrors: Partial<Record<string, string[]>>;
}

function flattenInputError(error: ZodError): InputErrors {
  return z.flattenError(error);
}

const t = initTRPC.context<TRPCContext>().create({
  transformer: superjson,
  errorFormatter({ shape, error, ctx }) {
    // Unexpected errors carry database or driver messages; those stay in the server log in production.
    const hide = error.code === "INTERNAL_SERVER_ERROR" && ctx?.container.env.NODE_ENV === "production";
    return {
      ...shape,
      message: hide ? "Internal server error" : shape.message,
      data: {
        ...shape.data,
        zodError: error.cause instanceof ZodError ? flattenInputError(error.cause) : null,
      },
    };
  },
});

export const createCallerFactory = t.createCallerFactory;
export const createTRPCRouter = t.router;

const TRPC_CODE_OF: Record<ServiceErrorKind, TRPCError["code"]> = {
  invalid_input: "BAD_REQUEST",
  not_found: "NOT_FOUND",
  conflict: "CONFLICT",
};

/**
 * A service's refusal as the tRPC error its kind says, its message kept (written for whoever asked): the one place
 * that maps them, so that routers never catch service errors to choose a status by hand.
 */
const serviceErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof ServiceError) {
    const cause = result.error.cause;
    throw new TRPCError({ code: TRPC_CODE_OF[cause.kind], message: cause.message, cause });
  }
  return result;
});

export const publicProcedure = t.procedure.use(serviceErrors);

export const protectedProcedure = publicProcedure.use(({ ctx, next }) => {
  const user = ctx.session?.user;
  if (ctx.session === null || user?.id === undefined || user.id === "") {
    throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first" });
  }
  return next({ ctx: { session: { ...ctx.session, user } } });
});

/**
 * The JWT's role may be stale (a demoted admin keeps the claim until the token expires), so admin rights are
 * re-read from the database; admin calls are rare enough for one indexed lookup.
 */
export const adminProcedure = protectedProcedure.use(async ({ ctx, next }) => {
  if (ctx.session.user.role !== "admin") throw new TRPCError({ code: "FORBIDDEN", message: "Admins only" });
  const [row] = await ctx.container.db
    .select({ role: users.role })
    .from(users)
    .where(eq(users.id, ctx.session.user.id))
    .limit(1);
  if (row?.role !== "admin") throw new TRPCError({ code: "FORBIDDEN", message: "Admins only" });
  // Who the audit log names for what this procedure changes.
  return next({ ctx: { actor: consoleActor(ctx.session.user) } });
});
