import { reencryptChannelSecrets } from "~/server/services/channel-secrets";
import { CommandError, type CommandSpec } from "../command";

export const secretsReencrypt: CommandSpec = {
  path: ["secrets", "reencrypt"],
  summary:
    "Re-encrypt every channel key under the current ENCRYPTION_KEY (the last step of a key rotation, with the old key in ENCRYPTION_KEY_PREVIOUS)",
  options: {},
  async run(_input, { db, secretBox, actor }) {
    let rewritten: string[];
    try {
      ({ channels: rewritten } = await reencryptChannelSecrets(db, secretBox, actor));
    } catch (error) {
      throw new CommandError(error instanceof Error ? error.message : String(error));
    }
    return {
      text:
        rewritten.length === 0
          ? "Every channel key is already under the current ENCRYPTION_KEY: nothing to re-encrypt."
          : `Re-encrypted the keys of ${rewritten.length} channel${rewritten.length === 1 ? "" : "s"} under the current ENCRYPTION_KEY: ${rewritten.join(", ")}. ENCRYPTION_KEY_PREVIOUS can now be removed.`,
      json: { channels: rewritten },
    };
  },
};

export const secretsCommands = [secretsReencrypt];
