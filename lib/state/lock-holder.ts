/**
 * Who holds a lock file, and whether that process is provably gone, so a lock
 * left by a killed process need not hold its key for the whole stale period.
 *
 * Why: a `serve` killed mid-write (kill -9, an OOM kill, a host restart of
 * the process) leaves the lock files it held; a `serve` started again at once
 * waited up to 30 s (the stale period) for each of those keys, answering their
 * webhooks late or with 503.
 *
 * The token a lock file holds names its process: pid, the process's start
 * time, the boot, the pid namespace and the host. Another process judges it
 * only when all of those but the pid and start time are its own (the same
 * kernel boot, the same pid namespace, the same host name) and the lock file
 * belongs to its own user; then the holder is gone when /proc has no process
 * with that pid, or has one that started at another time (the pid was reused).
 * Anything else (another machine on a shared directory, another container,
 * another user, whose processes /proc may hide, a token written before this
 * existed, a platform without /proc) is not judged: the lock waits for its
 * stale period, as before. Linux only. Imports only `node:` modules and its
 * siblings (see file-store.ts).
 */
import { promises as fs, readFileSync, readlinkSync } from "node:fs";
import { hostname } from "node:os";
import { errorCode } from "./file-record.js";

interface Identity {
  /** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
  start: string;
  boot: string;
  pidNamespace: string;
  host: string;
}

/** Field 22 (starttime) of a /proc/<pid>/stat line; the command name before it may hold spaces. */
function startTimeOf(stat: string): string | undefined {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}

let self: Identity | null | undefined;

/** This process's identity, read once; null where there is no /proc to read it from. */
function identity(): Identity | null {
  if (self !== undefined) return self;
  self = null;
  if (process.platform !== "linux") return self;
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const start = startTimeOf(stat);
    // /proc from another pid namespace would name another pid: then nothing here can be judged.
    if (start === undefined || Number.parseInt(stat, 10) !== process.pid) return self;
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    const pidNamespace = readlinkSync("/proc/self/ns/pid");
    const host = hostname();
    if ([boot, pidNamespace, host].some((part) => part === "" || /\s/.test(part))) return self;
    self = { start, boot, pidNamespace, host };
  } catch {
    // No /proc (or not all of it): judge nothing.
  }
  return self;
}

/** The token for a lock this process takes: unique per lock, and naming this process where it can. */
export function lockToken(unique: string): string {
  const me = identity();
  const who = me === null ? "" : ` ${me.start} ${me.boot} ${me.pidNamespace} ${me.host}`;
  return `${process.pid} ${unique}${who}`;
}

/**
 * True only when the token names a process of this boot, pid namespace and host that no longer
 * runs, in a lock file of this process's own user (`fileUid`). False whenever that cannot be known.
 */
export async function lockHolderGone(token: string, fileUid: number): Promise<boolean> {
  const me = identity();
  if (me === null || process.getuid?.() !== fileUid) return false;
  const [pid, , start, boot, pidNamespace, host, extra] = token.split(" ");
  if (extra !== undefined || boot !== me.boot || pidNamespace !== me.pidNamespace || host !== me.host)
    return false;
  if (start === undefined || !/^[1-9][0-9]*$/.test(pid ?? "")) return false;
  let stat: string;
  try {
    stat = await fs.readFile(`/proc/${pid}/stat`, "utf8");
  } catch (error) {
    return errorCode(error) === "ENOENT" || errorCode(error) === "ESRCH";
  }
  const now = startTimeOf(stat);
  return now !== undefined && now !== start;
}
