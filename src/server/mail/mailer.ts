import nodemailer from "nodemailer";
import type { Logger } from "~/server/gateway/logger";

export interface MailMessage {
  to: string;
  subject: string;
  /** Plain text; every message has it (and the links in it are whole, for clients that show no HTML). */
  text: string;
  html?: string;
}

export interface Mailer {
  /** Hands the message to the SMTP server (or, with none configured, to the log); rejects when that fails. */
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/**
 * Mail through the SMTP server at `smtpUrl` (`smtp://user:pass@host:587`, `smtps://…:465`), pooled; with none (a local
 * start), each message is written to the server log instead, links included, so that a password can still be reset on
 * a machine that sends no mail. Never configure a production instance without SMTP: the log would hold live links.
 */
export function createMailer(options: { smtpUrl: string | undefined; from: string; logger: Logger }): Mailer {
  const { smtpUrl, from, logger } = options;
  if (smtpUrl === undefined) {
    return {
      send(message) {
        logger.warn("email not sent (SMTP_URL is not set); its text follows", {
          to: message.to,
          subject: message.subject,
          text: message.text,
        });
        return Promise.resolve();
      },
      close() {},
    };
  }
  const transport = nodemailer.createTransport(`${smtpUrl}${smtpUrl.includes("?") ? "&" : "?"}pool=true`);
  return {
    async send(message) {
      await transport.sendMail({ from, ...message });
    },
    close() {
      transport.close();
    },
  };
}
