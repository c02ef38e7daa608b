/**
 * Running the real `cfstudio` CLI (bin/cfstudio.mjs through tsx) from tests, and the shape of
 * a user error: exit 2, `error:` + what failed, a `fix:` line, no stack trace.
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const sharedDir = path.resolve(repoRoot, '../shared');

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.CFSTUDIO_DEBUG; // stack traces only appear with it; the tests need the user-facing output
  delete env.CFSTUDIO_BACKEND;
  return env;
}

export function cli(...args: string[]): Run {
  return cliWith({}, ...args);
}

export function cliWith(opts: { timeoutMs?: number; env?: Record<string, string> }, ...args: string[]): Run {
  const r = spawnSync(process.execPath, ['bin/cfstudio.mjs', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: cliEnv(opts.env),
    timeout: opts.timeoutMs ?? 90_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The CLI as a child process the test can signal (for Ctrl-C / kill tests). */
export function cliSpawn(...args: string[]) {
  return spawn(process.execPath, ['bin/cfstudio.mjs', ...args], {
    cwd: repoRoot,
    env: cliEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** A user error: exit 2, `error:` on stderr with every part, and no stack trace / source path. */
export function expectUserError(r: Run, ...parts: (string | RegExp)[]): void {
  const ctx = `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
  expect(r.status, ctx).toBe(2);
  expect(r.stderr, ctx).toMatch(/^error: /m);
  // what to do next: a `  fix:` line (or, for option syntax errors, the pointer to --help)
  expect(r.stderr, ctx).toMatch(/^ {2}fix: \S|run with --help/m);
  expect(r.stderr, ctx).not.toMatch(/internal error/i);
  expect(r.stderr, ctx).not.toMatch(/^\s+at\s/m);
  expect(r.stderr, ctx).not.toMatch(/\.ts:\d/);
  expect(r.stderr, ctx).not.toContain('.ts:');
  for (const p of parts) {
    if (typeof p === 'string') expect(r.stderr, ctx).toContain(p);
    else expect(r.stderr, ctx).toMatch(p);
  }
}

export function expectOk(r: Run): void {
  expect(r.status, `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
}
