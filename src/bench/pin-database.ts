/**
 * Runs a local PostgreSQL server on the load core for the bench: its postmaster and every backend are pinned there
 * with taskset (backends forked later inherit the postmaster's CPUs), so the gateway's core is its own, as it would
 * be with the database on another machine, and the figures do not depend on where the scheduler put the server. The
 * server's CPUs are put back when the bench ends.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import postgres from "postgres";
import { onCleanup } from "./cleanup";

const TASKSET = ["/usr/bin/taskset", "/bin/taskset"].find((candidate) => existsSync(candidate)) ?? null;

/** The parent pid in /proc/PID/stat (the field after the command, which may hold spaces and parentheses). */
function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[1]);
  } catch {
    return null;
  }
}

function childrenOf(parent: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (Number.isInteger(pid) && parentOf(pid) === parent) children.push(pid);
  }
  return children;
}

/** The CPU list a process may run on, as taskset prints it ("0,1" or "0-1"). */
function cpuListOf(pid: number): string {
  const output = execFileSync(TASKSET!, ["-c", "-p", String(pid)], { encoding: "utf8" });
  return output.slice(output.lastIndexOf(":") + 1).trim();
}

function pin(pid: number, cpus: string): void {
  // -a: every thread of the process.
  execFileSync(TASKSET!, ["-a", "-c", "-p", cpus, String(pid)], { stdio: "ignore" });
}

/**
 * Pins the server behind `serverUrl` to `cpu`; throws with the reason when it cannot (no taskset, a server on another
 * machine or in a container this process cannot see, no permission).
 */
export async function pinDatabaseServer(serverUrl: string, cpu: number): Promise<{ postmaster: number }> {
  if (TASKSET === null) throw new Error("taskset is not installed");
  const sql = postgres(serverUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  let postmaster: number | null;
  try {
    const [row] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
    // Read while the connection is open: its backend ends with it.
    postmaster = parentOf(row!.pid);
  } finally {
    await sql.end({ timeout: 5 });
  }
  if (postmaster === null || !readFileSync(`/proc/${postmaster}/cmdline`, "utf8").includes("postgres")) {
    throw new Error("the PostgreSQL server does not run on this machine (its processes are not visible here)");
  }
  const original = cpuListOf(postmaster);
  const unpin = () => {
    for (const pid of [postmaster, ...childrenOf(postmaster)]) {
      try {
        pin(pid, original);
      } catch {
        // The backend ended meanwhile.
      }
    }
  };
  // Also on an interrupted run (the synchronous form runs from a signal handler).
  onCleanup("unpin the PostgreSQL server", () => Promise.resolve(unpin()), unpin);
  for (const pid of [postmaster, ...childrenOf(postmaster)]) pin(pid, String(cpu));
  return { postmaster };
}
