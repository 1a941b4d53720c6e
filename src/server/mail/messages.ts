import type { MailMessage } from "./mailer";

/*
 * The mails Tollgate sends: short, plain, each with its one link on a line of its own and what to do if the reader did
 * not ask for it. HTML mirrors the text (some clients hide bare links in text mail).
 */

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function message(to: string, subject: string, paragraphs: string[], link: { url: string; label: string }): MailMessage {
  const [first = "", ...rest] = paragraphs;
  const text = [first, link.url, ...rest, "— Tollgate"].join("\n\n");
  const html = [
    `<p>${escapeHtml(first)}</p>`,
    `<p><a href="${escapeHtml(link.url)}">${escapeHtml(link.label)}</a></p>`,
    ...rest.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`),
    "<p>— Tollgate</p>",
  ].join("\n");
  return { to, subject, text, html };
}

export function passwordResetMessage(to: string, url: string, validForMinutes: number): MailMessage {
  return message(
    to,
    "Reset your Tollgate password",
    [
      "Someone (we hope you) asked to reset the password of the Tollgate account for this address. Choose a new password here:",
      `The link works once, for ${validForMinutes} minutes. Setting a new password signs you out everywhere.`,
      "If you did not ask for this, ignore this email: your password stays as it is.",
    ],
    { url, label: "Choose a new password" },
  );
}

export function emailVerificationMessage(to: string, url: string): MailMessage {
  return message(
    to,
    "Confirm your email address for Tollgate",
    [
      "Confirm that this address is yours, so that you can recover your Tollgate account and sign in with your company or Google account:",
      "If you did not sign up for Tollgate, ignore this email.",
    ],
    { url, label: "Confirm my email address" },
  );
}

export function emailChangeMessage(to: string, url: string, validForHours: number): MailMessage {
  return message(
    to,
    "Confirm your new email address for Tollgate",
    [
      "Confirm that your Tollgate account should use this address from now on:",
      `The link works once, for ${validForHours} hours. Until then you sign in with your current address.`,
      "If you did not ask for this, ignore this email.",
    ],
    { url, label: "Use this address" },
  );
}

/** To the old address, so that someone who took over a session cannot move the account away unnoticed. */
export function emailChangeNoticeMessage(to: string, newEmail: string, accountUrl: string): MailMessage {
  return message(
    to,
    "Your Tollgate email address is being changed",
    [
      `Someone signed in to your Tollgate account asked to change its email address to ${newEmail}. It changes only when the link sent there is followed. If this was not you, change your password and sign out everywhere:`,
    ],
    { url: accountUrl, label: "Open your account settings" },
  );
}
