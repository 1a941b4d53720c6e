/**
 * Everything the bench must undo (child processes, temporary directories, the bench database), undone in reverse
 * order on normal exit, on errors and on Ctrl-C. A last synchronous pass on `exit` kills what is still alive.
 */
import { rmSync } from "node:fs";

type Step = { name: string; run: () => Promise<void>; runSync?: () => void };

const steps: Step[] = [];
let running: Promise<void> | undefined;

export function onCleanup(name: string, run: () => Promise<void>, runSync?: () => void): void {
  steps.push({ name, run, runSync });
}

export function removeDirectoryOnCleanup(directory: string): void {
  const remove = () => rmSync(directory, { recursive: true, force: true, maxRetries: 3 });
  onCleanup(`remove ${directory}`, () => Promise.resolve(remove()), remove);
}

function withTimeout(promise: Promise<void>, ms: number, name: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      process.stderr.write(`cleanup: "${name}" did not finish within ${ms} ms; moving on\n`);
      resolve();
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function runCleanup(): Promise<void> {
  running ??= (async () => {
    while (steps.length > 0) {
      const step = steps.pop()!;
      try {
        await withTimeout(step.run(), 20_000, step.name);
      } catch (error) {
        process.stderr.write(
          `cleanup: ${step.name} failed: ${error instanceof Error ? error.message : String(error)}\n`,
        );
      }
    }
  })();
  return running;
}

let installed = false;
let interruptedBy: NodeJS.Signals | null = null;

/** The signal that interrupted the bench, if one did: failures after it are its doing, not the gateway's. */
export function interruption(): NodeJS.Signals | null {
  return interruptedBy;
}

/** Runs the cleanup on SIGINT/SIGTERM (then exits 130/143) and synchronously on any exit that skipped it. */
export function installCleanupHandlers(): void {
  if (installed) return;
  installed = true;
  const onSignal = (signal: NodeJS.Signals, code: number) => {
    interruptedBy = signal;
    process.stderr.write(`\nbench: ${signal} received, cleaning up…\n`);
    void runCleanup().finally(() => process.exit(code));
  };
  process.once("SIGINT", () => onSignal("SIGINT", 130));
  process.once("SIGTERM", () => onSignal("SIGTERM", 143));
  process.on("exit", () => {
    for (const step of steps.splice(0).reverse()) {
      try {
        step.runSync?.();
      } catch {
        // Best effort: the process is exiting.
      }
    }
  });
}
