import type { Provider } from "next-auth/providers";
import GitHub from "next-auth/providers/github";
import Google from "next-auth/providers/google";
import type { Env } from "~/env";

/*
 * Sign-in through GitHub, Google and one OpenID Connect provider (a company's SSO: Okta, Entra ID, Keycloak…), each
 * offered when its client id and secret are configured. A sign-in joins the account with the same address when the
 * provider vouches that the address is the person's (auth/config.ts checks `email_verified`), else makes a new one.
 */

export interface SignInButton {
  id: string;
  /** "Continue with …" */
  name: string;
}

type OAuthEnv = Pick<
  Env,
  | "AUTH_GITHUB_ID"
  | "AUTH_GITHUB_SECRET"
  | "AUTH_GOOGLE_ID"
  | "AUTH_GOOGLE_SECRET"
  | "AUTH_OIDC_ISSUER"
  | "AUTH_OIDC_ID"
  | "AUTH_OIDC_SECRET"
  | "AUTH_OIDC_NAME"
>;

interface GitHubEmail {
  email: string;
  primary: boolean;
  verified: boolean;
}

/**
 * GitHub's profile has no `email_verified`, and its public address may be one GitHub never verified: the address used
 * is the primary one among those GitHub lists as verified (`/user/emails`, granted by the `user:email` scope).
 */
async function gitHubProfile(accessToken: string, apiBaseUrl: string): Promise<Record<string, unknown>> {
  const headers = { authorization: `Bearer ${accessToken}`, "user-agent": "tollgate", accept: "application/json" };
  const [profile, emails] = await Promise.all([
    fetch(`${apiBaseUrl}/user`, { headers }).then((response) => response.json() as Promise<Record<string, unknown>>),
    fetch(`${apiBaseUrl}/user/emails`, { headers }).then((response) =>
      response.ok ? (response.json() as Promise<GitHubEmail[]>) : [],
    ),
  ]);
  const verified = emails.filter((entry) => entry.verified);
  const chosen = verified.find((entry) => entry.primary) ?? verified[0];
  return { ...profile, email: chosen?.email ?? profile.email ?? null, email_verified: chosen !== undefined };
}

function configured(id: string | undefined, secret: string | undefined): id is string {
  return id !== undefined && secret !== undefined;
}

export function oauthProviders(env: OAuthEnv): Provider[] {
  const providers: Provider[] = [];
  if (configured(env.AUTH_GITHUB_ID, env.AUTH_GITHUB_SECRET)) {
    providers.push(
      GitHub({
        clientId: env.AUTH_GITHUB_ID,
        clientSecret: env.AUTH_GITHUB_SECRET,
        allowDangerousEmailAccountLinking: true,
        userinfo: {
          url: "https://api.github.com/user",
          request: ({ tokens }: { tokens: { access_token?: string } }) =>
            gitHubProfile(tokens.access_token ?? "", "https://api.github.com"),
        },
      }),
    );
  }
  if (configured(env.AUTH_GOOGLE_ID, env.AUTH_GOOGLE_SECRET)) {
    providers.push(
      Google({
        clientId: env.AUTH_GOOGLE_ID,
        clientSecret: env.AUTH_GOOGLE_SECRET,
        allowDangerousEmailAccountLinking: true,
      }),
    );
  }
  if (configured(env.AUTH_OIDC_ID, env.AUTH_OIDC_SECRET) && env.AUTH_OIDC_ISSUER !== undefined) {
    providers.push({
      id: "oidc",
      name: env.AUTH_OIDC_NAME,
      type: "oidc",
      issuer: env.AUTH_OIDC_ISSUER,
      clientId: env.AUTH_OIDC_ID,
      clientSecret: env.AUTH_OIDC_SECRET,
      checks: ["pkce", "state"],
      // Claims from the userinfo endpoint: some providers put the address only there, not in the ID token.
      idToken: false,
      allowDangerousEmailAccountLinking: true,
    });
  }
  return providers;
}

/** The buttons the sign-in page shows, one per configured provider. */
export function signInButtons(env: OAuthEnv): SignInButton[] {
  return oauthProviders(env).map((provider) => {
    const resolved = typeof provider === "function" ? provider() : provider;
    return { id: resolved.id, name: resolved.name };
  });
}
