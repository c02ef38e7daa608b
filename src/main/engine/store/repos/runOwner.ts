/**
 * Who owns a run in progress, and whether that owner is still alive: the data a workspace needs
 * to tell a run left 'running' by a dead process (kill -9, crash, power loss) from one still in
 * progress in another process (runs.ts, `interruptAbandoned`).
 *
 * An owner is this process (pid, host name) plus a random token per thread that writes runs,
 * so that a pid reused by an unrelated process is never taken for the owner. The owner's
 * heartbeat (runs.ts) refreshes `heartbeat_at` while its runs are active.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';

export interface RunOwner {
  pid: number;
  host: string;
  token: string;
}

/** The owner of the runs this thread creates (one token per thread: workers write runs too). */
export const THIS_OWNER: RunOwner = Object.freeze({
  pid: process.pid,
  host: os.hostname(),
  token: randomUUID(),
});

/** How often an owner refreshes the heartbeat of its active runs. */
export const HEARTBEAT_MS = 15_000;

/**
 * A heartbeat older than this says its owner is gone even when its pid is alive (the pid was
 * reused, or the owner runs on another machine sharing the file). Generous, because a thread
 * that computes for a long time without yielding also misses its beats; an owner that comes
 * back claims its runs again (runs.ts, `heartbeat`).
 */
export const STALE_MS = 10 * 60_000;

/** Whether process `pid` exists on this machine (a zombie, dead but not yet reaped, does not). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: it exists but belongs to another user
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (process.platform === 'linux') {
    try {
      // /proc/PID/stat: "pid (comm) STATE …"; comm may hold spaces and parentheses
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') return false;
    } catch {
      // gone between the two checks, or /proc unavailable: kill(0) had the last word
    }
  }
  return true;
}

export interface OwnerRecord {
  pid: number | null;
  host: string | null;
  token: string | null;
  heartbeatAt: number | null;
}

/**
 * Whether the owner recorded for an active run is gone: no owner at all (written before schema
 * v4, by a process that predates it), a dead process on this machine, or a heartbeat older than
 * STALE_MS. The caller's own runs are never abandoned.
 */
export function ownerGone(
  o: OwnerRecord,
  now: number,
  me: RunOwner = THIS_OWNER,
  alive: (pid: number) => boolean = pidAlive,
): boolean {
  if (o.token !== null && o.token === me.token) return false;
  if (o.pid === null || o.token === null) return true;
  if (o.host === me.host && !alive(o.pid)) return true;
  return o.heartbeatAt === null || now - o.heartbeatAt > STALE_MS;
}
