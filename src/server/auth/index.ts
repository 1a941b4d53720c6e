import NextAuth, { type NextAuthConfig } from "next-auth";
import { getContainer, type Container } from "~/server/container";
import { createAuthConfig } from "./config";

// The lazy form runs on every request; keep one config per container (tests swap containers).
const configs = new WeakMap<Container, NextAuthConfig>();

async function currentConfig(): Promise<NextAuthConfig> {
  const container = await getContainer();
  let config = configs.get(container);
  if (config === undefined) {
    config = createAuthConfig(container);
    configs.set(container, config);
  }
  return config;
}

/**
 * Lazy so that the secret comes from the container: it may have been generated on first start rather than set in
 * the environment.
 */
export const { auth, handlers, signIn, signOut } = NextAuth(currentConfig);
