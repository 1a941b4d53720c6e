/** CPU time and memory of another process, read from Linux's /proc. */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of the whole process (all threads, living and exited) in ns; clock-tick resolution. */
function readStatCpuNs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Field 2 (comm) is parenthesised and may contain spaces; fields 14 and 15 follow it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e9) / ticksPerSecond();
}

/**
 * CPU time of the process's living threads in ns, from each thread's schedstat (nanosecond resolution). Summed over
 * threads because /proc/<pid>/schedstat covers the main thread only, and V8 collects garbage on helper threads.
 */
function readSchedstatCpuNs(pid: number): number | null {
  try {
    let total = 0;
    for (const thread of readdirSync(`/proc/${pid}/task`)) {
      try {
        total += Number(readFileSync(`/proc/${pid}/task/${thread}/schedstat`, "utf8").split(" ")[0]);
      } catch {
        // The thread ended between the listing and the read.
      }
    }
    return total;
  } catch {
    return null;
  }
}

export interface CpuSample {
  /** Best available CPU time in ns: schedstat when the kernel has it, else utime + stime. */
  ns: number;
  /** utime + stime in ns, for cross-checking (10 ms resolution at CLK_TCK = 100). */
  statNs: number;
  source: "schedstat" | "stat";
}

export function readCpu(pid: number): CpuSample {
  const statNs = readStatCpuNs(pid);
  const schedNs = readSchedstatCpuNs(pid);
  return schedNs === null || schedNs === 0
    ? { ns: statNs, statNs, source: "stat" }
    : { ns: schedNs, statNs, source: "schedstat" };
}

function statusField(pid: number, name: string): string | undefined {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const line = status.split("\n").find((candidate) => candidate.startsWith(`${name}:`));
  return line?.slice(name.length + 1).trim();
}

function statusKilobytes(pid: number, name: string): number {
  const value = statusField(pid, name);
  const match = value === undefined ? null : /^(\d+)\s*kB$/.exec(value);
  if (match === null) throw new Error(`/proc/${pid}/status has no ${name}`);
  return Number(match[1]) * 1024;
}

/** Peak resident set size (VmHWM) in bytes. */
export function readPeakRssBytes(pid: number): number {
  return statusKilobytes(pid, "VmHWM");
}

/** Resident memory now (VmRSS), as an idle process holds it; the peak (VmHWM) also counts what start-up used once. */
export function readRssBytes(pid: number): number {
  return statusKilobytes(pid, "VmRSS");
}

export interface ProcessIdentity {
  pid: number;
  executable: string;
  commandLine: string[];
  threads: number;
  cpusAllowed: string;
}

export function describeProcess(pid: number): ProcessIdentity {
  return {
    pid,
    executable: realpathSync(readlinkSync(`/proc/${pid}/exe`)),
    commandLine: readFileSync(`/proc/${pid}/cmdline`, "utf8")
      .split("\0")
      .filter((part) => part !== ""),
    threads: Number(statusField(pid, "Threads") ?? "0"),
    cpusAllowed: statusField(pid, "Cpus_allowed_list") ?? "?",
  };
}

/**
 * Checks that `pid` is the node process running `script` (taskset execs, so the child's pid should be node's own),
 * pinned where we asked. Throws when it is something else: the CPU numbers would be meaningless.
 */
export function verifyNodeProcess(pid: number, script: string, expectedCpus: string | null): ProcessIdentity {
  const identity = describeProcess(pid);
  const node = realpathSync(process.execPath);
  if (identity.executable !== node) {
    throw new Error(`pid ${pid} runs ${identity.executable}, not ${node}: CPU would be measured on the wrong process`);
  }
  if (!identity.commandLine.some((part) => part.endsWith(script))) {
    throw new Error(`pid ${pid} is not running ${script} (${identity.commandLine.join(" ")})`);
  }
  if (expectedCpus !== null && identity.cpusAllowed !== expectedCpus) {
    throw new Error(`pid ${pid} may run on CPUs ${identity.cpusAllowed}, expected ${expectedCpus}`);
  }
  return identity;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits until the process has been (nearly) idle for a while, so a measurement window neither starts with nor misses
 * deferred work (batched usage writes, GC). Bounded by `maxMs`; returns how long it waited.
 */
export async function waitUntilIdle(
  pid: number,
  options: { windowMs?: number; idleCpuFraction?: number; maxMs?: number } = {},
): Promise<number> {
  const windowMs = options.windowMs ?? 200;
  const idle = options.idleCpuFraction ?? 0.02;
  const maxMs = options.maxMs ?? 10_000;
  const started = performance.now();
  let previous = readCpu(pid).ns;
  while (performance.now() - started < maxMs) {
    await sleep(windowMs);
    const current = readCpu(pid).ns;
    if (current - previous <= windowMs * 1e6 * idle) break;
    previous = current;
  }
  return performance.now() - started;
}

export interface CpuTimes {
  /** Jiffies per CPU number: time spent busy, idle, and stolen by the hypervisor. */
  [cpu: number]: { busy: number; idle: number; steal: number };
}

/** Per-CPU time counters from /proc/stat (clock ticks). */
export function readCpuTimes(): CpuTimes {
  const times: CpuTimes = {};
  for (const line of readFileSync("/proc/stat", "utf8").split("\n")) {
    const match = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (match === null) continue;
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = match[2]!
      .split(/\s+/)
      .map(Number);
    times[Number(match[1])] = { busy: user + nice + system + irq + softirq, idle: idle + iowait, steal };
  }
  return times;
}

/** Share of `cpu`'s time the hypervisor took away between two readings (a noisy neighbour on a VM). */
export function stealFraction(before: CpuTimes, after: CpuTimes, cpu: number): number | null {
  const start = before[cpu];
  const end = after[cpu];
  if (start === undefined || end === undefined) return null;
  const total = end.busy + end.idle + end.steal - (start.busy + start.idle + start.steal);
  return total > 0 ? (end.steal - start.steal) / total : null;
}
