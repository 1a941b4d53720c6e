import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { expect } from "vitest";

export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
}

export interface SmtpInbox {
  /** `smtp://127.0.0.1:<port>`: what SMTP_URL is set to. */
  url: string;
  received: ReceivedMail[];
  /** The first mail to `to` whose subject contains `subject`, once it arrives. */
  waitFor(to: string, subject: string): Promise<ReceivedMail>;
  /** The first link in a mail that points at `path` (e.g. `/reset-password/`). */
  linkIn(mail: ReceivedMail, path: string): string;
  close(): Promise<void>;
}

/**
 * A real SMTP server on a free local port (no TLS, any or no login) keeping every message it accepts, parsed: the
 * gateway's mailer talks SMTP to it exactly as to a production relay.
 */
export async function startSmtpInbox(): Promise<SmtpInbox> {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onAuth(_auth, _session, callback) {
      callback(null, { user: "test" });
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          received.push({
            from: session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address,
            to: session.envelope.rcptTo.map((recipient) => recipient.address),
            subject: mail.subject ?? "",
            text: mail.text ?? "",
            html: typeof mail.html === "string" ? mail.html : "",
          });
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;
  const find = (to: string, subject: string) =>
    received.find((mail) => mail.to.includes(to) && mail.subject.includes(subject));
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    async waitFor(to, subject) {
      await expect.poll(() => find(to, subject) !== undefined, { timeout: 10_000 }).toBe(true);
      return find(to, subject)!;
    },
    linkIn(mail, path) {
      const link = mail.text.match(/https?:\/\/\S+/g)?.find((url) => new URL(url).pathname.startsWith(path));
      if (link === undefined) throw new Error(`no ${path} link in "${mail.subject}":\n${mail.text}`);
      return link;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
