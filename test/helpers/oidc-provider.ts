import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { generateKeyPairSync } from "node:crypto";
import Provider, { type KoaContextWithOIDC } from "oidc-provider";

export interface OidcPerson {
  email: string;
  email_verified: boolean;
  name: string;
}

export interface LocalOidcProvider {
  /** `http://127.0.0.1:<port>`: AUTH_OIDC_ISSUER. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  close(): Promise<void>;
}

/**
 * A real OpenID Connect provider (panva's `oidc-provider`, certified) on a free local port, as a company's SSO would
 * be: discovery, authorization code with PKCE, RS256 ID tokens, userinfo. Its own sign-in page (the library's
 * development form: a login name and any password) signs in as `people[login]`; consent is granted without asking.
 * `redirectUri` is the gateway's callback, `<origin>/api/auth/callback/oidc`.
 */
export async function startOidcProvider(options: {
  redirectUri: string;
  people: Record<string, OidcPerson>;
}): Promise<LocalOidcProvider> {
  const clientId = "tollgate-test";
  const clientSecret = "tollgate-test-secret";
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [options.redirectUri],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    jwks: { keys: [{ ...privateKey.export({ format: "jwk" }), alg: "RS256", use: "sig", kid: "test" }] },
    cookies: { keys: ["oidc-test-cookies"] },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 600, Grant: 600 },
    findAccount(_context: KoaContextWithOIDC, login: string) {
      const person = options.people[login];
      if (person === undefined) return undefined;
      return { accountId: login, claims: () => ({ sub: login, ...person }) };
    },
    // Consent is the company's business, not this test's: every client gets what it asks for.
    async loadExistingGrant(context: KoaContextWithOIDC) {
      const { oidc } = context;
      const existing = oidc.session?.grantIdFor(oidc.client!.clientId);
      if (existing !== undefined) return oidc.provider.Grant.find(existing);
      const grant = new oidc.provider.Grant({ clientId: oidc.client!.clientId, accountId: oidc.session!.accountId! });
      grant.addOIDCScope("openid email profile");
      await grant.save();
      return grant;
    },
  });
  // What the provider refused and why, in the test's output (the gateway only learns "invalid_grant").
  provider.on("grant.error", (_context: unknown, error: { error_detail?: string }) => {
    console.error(`OIDC provider refused a grant: ${error.error_detail ?? "no detail"}`);
  });
  const handle = provider.callback();
  server.on("request", (request, response) => void handle(request, response));
  return {
    issuer,
    clientId,
    clientSecret,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
