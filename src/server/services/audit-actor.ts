import { hostname, userInfo } from "node:os";

/** Who did an admin action, and through what. */
export interface AuditActor {
  /** The admin's user id; null for the CLI. */
  userId: string | null;
  /** As a person reads it: an email, or `cli:<os user>@<host>`. */
  label: string;
  via: "console" | "cli" | "system";
}

/** The admin signed in to the console (or calling its procedures). */
export function consoleActor(user: { id: string; email?: string | null }): AuditActor {
  return { userId: user.id, label: user.email ?? user.id, via: "console" };
}

/** Whoever runs the CLI: the operating-system user of the shell that ran it (`env` is that shell's environment). */
export function cliActor(env: Record<string, string | undefined> = process.env): AuditActor {
  const user = env.SUDO_USER ?? env.USER ?? env.LOGNAME ?? safeUserName();
  return { userId: null, label: `cli:${user}@${hostname()}`, via: "cli" };
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}

/** The server acting on its own configuration (env channels at start), not on anyone's request. */
export const SYSTEM_ACTOR: AuditActor = { userId: null, label: "system", via: "system" };
