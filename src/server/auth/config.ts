import type { Adapter } from "@auth/core/adapters";
import { DrizzleAdapter } from "@auth/drizzle-adapter";
import { CredentialsSignin } from "@auth/core/errors";
import type { DefaultSession, NextAuthConfig } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Container } from "~/server/container";
import type { Database } from "~/server/db";
import { accounts, balances, sessions, users, verificationTokens } from "~/server/db/schema";
import { isSessionCurrent } from "~/server/services/account-settings";
import { oauthProviders } from "./oauth-providers";
import { decideOAuthSignIn } from "./oauth-sign-in";
import { clientAddress, type SignInThrottle } from "./sign-in-throttle";
import { authenticateUser, emailSchema, type UserRole } from "~/server/services/users";

declare module "next-auth" {
  interface Session extends DefaultSession {
    user: { id: string; role: UserRole } & DefaultSession["user"];
  }
  interface User {
    role?: UserRole;
  }
}

declare module "@auth/core/jwt" {
  interface JWT {
    id?: string;
    role?: UserRole;
    /** Epoch milliseconds of the sign-in that made the token (`iat` has whole seconds only). */
    signedInAt?: number;
  }
}

/** Length limits stop a megabyte "password" from reaching argon2. */
const credentialsSchema = z.object({
  email: emailSchema,
  password: z.string().min(1).max(256),
});

export interface AuthorizedUser {
  id: string;
  email: string;
  name: string | null;
  image: string | null;
  role: UserRole;
}

/** What a provider's refusal carries (oauth4webapi's ResponseBodyError), when the failure was one. */
interface ProviderFailure {
  error?: unknown;
  error_description?: unknown;
}

/** Too many failed sign-ins for this account or from this address: the sign-in form says so. */
export class ThrottledSignInError extends CredentialsSignin {
  override code = "throttled";
}

/** The right password for an account an admin disabled: the form says so (only to whoever knows the password). */
export class DisabledAccountSignInError extends CredentialsSignin {
  override code = "account_disabled";
}

/**
 * The Credentials provider's check: email and password against the argon2id hash. Returns null for anything wrong
 * (malformed input, unknown email, bad password) without saying which, as Auth.js expects. With a throttle, an
 * account or address past its failures is refused before the password is looked at (ThrottledSignInError).
 */
export async function authorizeCredentials(
  db: Database,
  credentials: unknown,
  throttling?: { throttle: SignInThrottle; ip: string | null },
): Promise<AuthorizedUser | null> {
  const parsed = credentialsSchema.safeParse(credentials);
  if (!parsed.success) return null;
  const attempt = { email: parsed.data.email, ip: throttling?.ip ?? null };
  if (throttling !== undefined && (await throttling.throttle.retryAfterSeconds(attempt)) > 0) {
    throw new ThrottledSignInError();
  }
  const user = await authenticateUser(db, parsed.data.email, parsed.data.password);
  if (user === null) {
    await throttling?.throttle.recordFailure(attempt);
    return null;
  }
  await throttling?.throttle.recordSuccess(attempt);
  if (user.disabledAt !== null) throw new DisabledAccountSignInError();
  return { id: user.id, email: user.email, name: user.name, image: user.image, role: user.role };
}

/**
 * Auth.js's Drizzle adapter, which stores the users that providers sign in and their links to them, with one addition:
 * a user it makes gets a balance, as one signed up with a password does.
 */
function createAdapter(db: Database): Adapter {
  const adapter = DrizzleAdapter(db, {
    usersTable: users,
    accountsTable: accounts,
    sessionsTable: sessions,
    verificationTokensTable: verificationTokens,
  });
  return {
    ...adapter,
    async createUser(data) {
      const user = await adapter.createUser!(data);
      await db.insert(balances).values({ userId: user.id }).onConflictDoNothing();
      return user;
    },
  };
}

export function createAuthConfig(
  container: Pick<Container, "db" | "authSecret" | "previousAuthSecret" | "logger" | "signInThrottle" | "env">,
): NextAuthConfig {
  const { db, logger } = container;
  return {
    // Auth.js signs with the first and accepts any: sessions from before an AUTH_SECRET rotation stay valid.
    secret:
      container.previousAuthSecret === undefined
        ? container.authSecret
        : [container.authSecret, container.previousAuthSecret],
    // Into the app's JSON log; a wrong password is routine, not an error.
    logger: {
      error(error) {
        // Auth.js errors carry a stable `type`; class names do not survive minification.
        if ("type" in error && error.type === "CredentialsSignin")
          logger.info("sign-in refused: wrong email or password");
        else {
          // Auth.js wraps what went wrong (a provider's refusal, a network error) as the cause; its message is a link.
          const cause = (error as { cause?: ProviderFailure & { err?: ProviderFailure } }).cause;
          const reason = cause?.err ?? cause;
          logger.error("auth error", {
            error,
            type: "type" in error ? error.type : undefined,
            cause: reason,
            // A provider's OAuth error (oauth4webapi's ResponseBodyError): what it refused, in its words.
            providerError: reason?.error,
            providerErrorDescription: reason?.error_description,
          });
        }
      },
      warn(code) {
        logger.warn("auth warning", { code });
      },
      debug() {},
    },
    trustHost: true,
    // Credentials sign-ins cannot use database sessions; the adapter is still wired so OAuth providers can be added.
    session: { strategy: "jwt" },
    adapter: createAdapter(db),
    // Refusals (a provider sign-in refused, a denied one) are explained on the sign-in page, from `?error=`.
    pages: { signIn: "/sign-in", error: "/sign-in" },
    providers: [
      Credentials({
        credentials: {
          email: { label: "Email", type: "email" },
          password: { label: "Password", type: "password" },
        },
        authorize: (credentials, request) =>
          authorizeCredentials(db, credentials, {
            throttle: container.signInThrottle,
            ip: clientAddress(request.headers),
          }),
      }),
      ...oauthProviders(container.env),
    ],
    events: {
      // The provider vouched for the address (signIn below allows nothing else): it counts as confirmed.
      async signIn({ user, account }) {
        if (account?.type !== "oauth" && account?.type !== "oidc") return;
        if (user.id === undefined) return;
        await db
          .update(users)
          .set({ emailVerified: sql`coalesce(${users.emailVerified}, now())` })
          .where(eq(users.id, user.id));
      },
    },
    callbacks: {
      async signIn({ account, profile }) {
        if (account?.type !== "oauth" && account?.type !== "oidc") return true;
        const decision = await decideOAuthSignIn(db, {
          provider: account.provider,
          providerAccountId: account.providerAccountId,
          email: profile?.email,
          emailVerified: profile?.email_verified,
        });
        if (decision === "allow") return true;
        logger.info("provider sign-in refused", { provider: account.provider, reason: decision });
        return `/sign-in?error=${decision}`;
      },
      async jwt({ token, user }) {
        // `user` is only present on the sign-in that creates the token.
        if (user?.id !== undefined) {
          token.id = user.id;
          token.role = user.role ?? "user";
          token.signedInAt = Date.now();
          return token;
        }
        // Every later request: a session ended since (sign out everywhere, a new password, a deleted account) is over.
        const userId = token.id ?? token.sub;
        const signedInAt = token.signedInAt ?? (token.iat ?? 0) * 1000;
        if (userId === undefined || !(await isSessionCurrent(db, userId, signedInAt))) return null;
        return token;
      },
      session({ session, token }) {
        return {
          ...session,
          user: { ...session.user, id: token.id ?? token.sub ?? "", role: token.role ?? "user" },
        };
      },
    },
  };
}
