import { createServer } from "node:net";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Screenshots } from "../helpers/browser";
import { browserJourney } from "../helpers/browser-journey";
import { startDashboardServer, type DashboardServer } from "../helpers/dashboard-server";
import { startOidcProvider, type LocalOidcProvider } from "../helpers/oidc-provider";
import { startSmtpInbox, type SmtpInbox } from "../helpers/smtp-inbox";

/*
 * A customer keeps their account: forgets the password and resets it through a link caught by a real SMTP server,
 * moves the account to their work address, then signs in through their company's single sign-on (a real OpenID
 * Connect provider on a local port), which joins the same account by the confirmed address. A colleague's first SSO
 * sign-in makes a new account; an address the provider has not confirmed is refused with the reason.
 */

const OLD_EMAIL = "ada@home.example";
const WORK_EMAIL = "ada@corp.example";
const NEW_PASSWORD = "a brand new password";

/** A port nothing listens on now, for the server whose address the SSO provider must know in advance. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe("an account people can keep", () => {
  let server: DashboardServer;
  let inbox: SmtpInbox;
  let sso: LocalOidcProvider;
  let context: BrowserContext;
  let page: Page;
  let shots: Screenshots;

  beforeAll(async () => {
    inbox = await startSmtpInbox();
    const port = await freePort();
    sso = await startOidcProvider({
      redirectUri: `http://127.0.0.1:${port}/api/auth/callback/oidc`,
      people: {
        ada: { email: WORK_EMAIL, email_verified: true, name: "Ada Lovelace" },
        grace: { email: "grace@corp.example", email_verified: true, name: "Grace Hopper" },
        eve: { email: "eve@corp.example", email_verified: false, name: "Eve" },
      },
    });
    server = await startDashboardServer("accounts", {
      PORT: String(port),
      SMTP_URL: inbox.url,
      EMAIL_FROM: "Tollgate <support@gateway.test>",
      AUTH_OIDC_ISSUER: sso.issuer,
      AUTH_OIDC_ID: sso.clientId,
      AUTH_OIDC_SECRET: sso.clientSecret,
      AUTH_OIDC_NAME: "Acme SSO",
    });
    for (const args of [
      ["user", "create", "--email", OLD_EMAIL, "--password", "a forgotten password"],
      ["credits", "add", "--email", OLD_EMAIL, "--usd", "3"],
    ]) {
      const result = await server.cli(args);
      expect(result.code, result.stderr).toBe(0);
    }
  });

  afterAll(async () => {
    await server?.stop();
    await sso?.close();
    await inbox?.close();
  });

  /** A fresh browser (signed out here and at the provider) signs in through the SSO as `login`. */
  async function signInThroughSso(login: string): Promise<void> {
    await context.clearCookies();
    await page.goto(`${server.origin}/sign-in`);
    await page.getByRole("button", { name: "Continue with Acme SSO" }).click();
    await page.locator("input[name=login]").fill(login);
    await page.locator("input[name=password]").fill("anything");
    await page.getByRole("button", { name: "Sign-in" }).click();
  }

  const journey = browserJourney("accounts");
  beforeAll(() => ({ context, page, shots } = journey));

  it("resets a forgotten password through the link mailed to the account's address", async () => {
    await page.goto(`${server.origin}/sign-in`);
    await page.getByRole("link", { name: "Forgot your password?" }).click();
    await page.waitForURL(`${server.origin}/forgot-password`);
    await page.getByLabel("Email").fill(OLD_EMAIL);
    await page.getByRole("button", { name: "Send me a link" }).click();
    await page.getByRole("status").getByText(`If an account uses ${OLD_EMAIL}`).waitFor();
    await shots.take(page, "forgot-password-sent");

    const mail = await inbox.waitFor(OLD_EMAIL, "Reset your Tollgate password");
    expect(mail.from).toBe("support@gateway.test");
    const link = inbox.linkIn(mail, "/reset-password/");
    expect(link.startsWith(`${server.origin}/reset-password/`)).toBe(true);
    await page.goto(link);
    await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel("New password again").fill(NEW_PASSWORD);
    await shots.take(page, "reset-password");
    await page.getByRole("button", { name: "Set the new password" }).click();
    await page.waitForURL(`${server.origin}/sign-in?changed=reset`);
    expect(await page.getByRole("status").innerText()).toContain("Your password was reset");

    await page.getByLabel("Email").fill(OLD_EMAIL);
    await page.getByLabel("Password").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL(`${server.origin}/keys`);

    // The link worked once.
    await page.goto(link);
    await page.getByText("This link is no longer valid").waitFor();
    await shots.take(page, "reset-link-used");
  });

  it("moves the account to the work address once the link sent there is followed", async () => {
    await page.goto(`${server.origin}/account`);
    const email = page.getByRole("region", { name: "Email" });
    // Following the reset link proved the address.
    expect(await email.getByText("Confirmed", { exact: true }).count()).toBe(1);
    await email.getByLabel("New email address").fill(WORK_EMAIL);
    await email.getByLabel("Current password, to confirm").fill(NEW_PASSWORD);
    await email.getByRole("button", { name: "Change email" }).click();
    await email.getByText(`We sent a link to ${WORK_EMAIL}`).waitFor();
    await shots.take(page, "email-change-sent");
    expect((await inbox.waitFor(OLD_EMAIL, "is being changed")).text).toContain(WORK_EMAIL);

    const link = inbox.linkIn(
      await inbox.waitFor(WORK_EMAIL, "Confirm your new email address"),
      "/confirm-email-change/",
    );
    await page.goto(link);
    await page.getByRole("button", { name: "Use this address from now on" }).click();
    await page.getByText(`Your account now uses ${WORK_EMAIL}`).waitFor();
    await page.goto(`${server.origin}/account`);
    expect(await page.getByTestId("account-email").innerText()).toBe(WORK_EMAIL);
  });

  it("signs in through the company's SSO to the same account, joined by the confirmed address", async () => {
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await page.waitForURL(`${server.origin}/`);
    await page.goto(`${server.origin}/billing`);
    await page.waitForURL(`${server.origin}/sign-in?next=%2Fbilling`);
    await shots.take(page, "sign-in-with-sso");
    await page.getByRole("button", { name: "Continue with Acme SSO" }).click();
    // The provider's own sign-in page.
    await page.waitForURL(`${sso.issuer}/**`);
    await page.locator("input[name=login]").fill("ada");
    await page.locator("input[name=password]").fill("whatever the company checks");
    await shots.take(page, "sso-provider-page");
    await page.getByRole("button", { name: "Sign-in" }).click();
    await page.waitForURL(`${server.origin}/billing`);
    expect(await page.getByTestId("billing-balance").innerText()).toBe("$3.00");
    expect(await page.locator(".nav-user").innerText()).toBe(WORK_EMAIL);
  });

  it("refuses an address the provider has not confirmed, saying why", async () => {
    await signInThroughSso("eve");
    await page.waitForURL(`${server.origin}/sign-in?error=EmailNotVerified`);
    expect(await page.locator(".alert--error").innerText()).toContain(
      "Your provider has not confirmed your email address",
    );
    await shots.take(page, "sso-refused");
  });

  it("makes a new account, with its address confirmed, for a colleague's first SSO sign-in", async () => {
    await signInThroughSso("grace");
    await page.waitForURL(`${server.origin}/keys`);
    await page.goto(`${server.origin}/account`);
    expect(await page.getByTestId("account-email").innerText()).toBe("grace@corp.example");
    expect(await page.getByRole("region", { name: "Email" }).getByText("Confirmed", { exact: true }).count()).toBe(1);
    await page.goto(`${server.origin}/billing`);
    expect(await page.getByTestId("billing-balance").innerText()).toBe("$0.00");
    await shots.take(page, "sso-new-account");
  });

  it("gives the provider-made account a password of its own through a mailed link", async () => {
    await page.goto(`${server.origin}/account`);
    const password = page.getByRole("region", { name: "Password" });
    await password.getByRole("button", { name: "Email me a link to set a password" }).click();
    await password.getByText("A link to choose a password is on its way").waitFor();
    await shots.take(page, "set-password-sent");
    const link = inbox.linkIn(
      await inbox.waitFor("grace@corp.example", "Reset your Tollgate password"),
      "/reset-password/",
    );
    await page.goto(link);
    await page.getByLabel("New password", { exact: true }).fill("graces own password");
    await page.getByLabel("New password again").fill("graces own password");
    await page.getByRole("button", { name: "Set the new password" }).click();
    await page.waitForURL(`${server.origin}/sign-in?changed=reset`);
    await page.getByLabel("Email").fill("grace@corp.example");
    await page.getByLabel("Password").fill("graces own password");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL(`${server.origin}/keys`);
  });
});
