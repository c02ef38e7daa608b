/**
 * writeFileAtomic, the one writer of every output, under the attacks and accidents of issue 13:
 * links planted at the temp name (the old predictable one and the random ones), a link, a folder
 * or a pipe at the destination, a read-only folder, and a failure in the middle of a write. In
 * every case the victim and the old output keep their bytes and no temp file is left behind.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UserError } from '../../src/main/engine/util/errors';
import { writeFileAtomic } from '../../src/main/engine/util/writeFileAtomic';

const isRoot = process.getuid?.() === 0;

let dir: string;
let victim: string;
const VICTIM_BYTES = 'root-owned configuration: must never change\n';

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-atomic-'));
  // the victim lives outside the folder written to, like a file of another user
  victim = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-victim-')), 'victim.conf');
  fs.writeFileSync(victim, VICTIM_BYTES);
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.chmodSync(dir, 0o755);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(path.dirname(victim), { recursive: true, force: true });
});

/** Files in `dir` besides the ones named (temp files left behind would show up here). */
const extraFiles = (...expected: string[]) => fs.readdirSync(dir).filter((f) => !expected.includes(f));

function thrown(fn: () => unknown): UserError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return e as UserError;
  }
  throw new Error('expected a UserError');
}

describe('writeFileAtomic', () => {
  it('writes a new file and replaces an old one whole, keeping its permissions', () => {
    const out = path.join(dir, 'scores.csv');
    writeFileAtomic(out, 'a,b\n1,2\n');
    expect(fs.readFileSync(out, 'utf8')).toBe('a,b\n1,2\n');
    fs.chmodSync(out, 0o600);
    writeFileAtomic(out, new Uint8Array([1, 2, 3]));
    expect([...fs.readFileSync(out)]).toEqual([1, 2, 3]);
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    expect(extraFiles('scores.csv')).toEqual([]);
  });

  it('does not follow a link planted at the old predictable temp name (OUT.tmp-PID)', () => {
    const out = path.join(dir, 'out.csv');
    const planted = `${out}.tmp-${process.pid}`;
    fs.symlinkSync(victim, planted);
    writeFileAtomic(out, 'row,score\n1,0.5\n');
    expect(fs.readFileSync(victim, 'utf8')).toBe(VICTIM_BYTES);
    expect(fs.lstatSync(out).isFile()).toBe(true);
    expect(fs.readFileSync(out, 'utf8')).toBe('row,score\n1,0.5\n');
    expect(fs.readlinkSync(planted)).toBe(victim); // not ours: left alone
    expect(extraFiles('out.csv', path.basename(planted))).toEqual([]);
  });

  it('does not follow links planted at the random temp names it picks (an attacker who guessed them)', () => {
    const out = path.join(dir, 'model.cfdet');
    // make the "random" names predictable, and plant a link at the first two of them
    const names = ['aa'.repeat(12), 'bb'.repeat(12), 'cc'.repeat(12)];
    let call = 0;
    vi.spyOn(crypto, 'randomBytes').mockImplementation(((n: number) => {
      expect(n).toBeGreaterThanOrEqual(12);
      return Buffer.from(names[call++], 'hex');
    }) as typeof crypto.randomBytes);
    const planted = names.slice(0, 2).map((hex) => path.join(dir, `.model.cfdet.${hex}.tmp`));
    for (const p of planted) fs.symlinkSync(victim, p);
    writeFileAtomic(out, 'MODEL');
    expect(call).toBe(3);
    expect(fs.readFileSync(victim, 'utf8')).toBe(VICTIM_BYTES);
    expect(fs.readFileSync(out, 'utf8')).toBe('MODEL');
    for (const p of planted) expect(fs.readlinkSync(p)).toBe(victim);
    expect(extraFiles('model.cfdet', ...planted.map((p) => path.basename(p)))).toEqual([]);
  });

  it('refuses when every temp name it tries is taken, and writes nothing anywhere', () => {
    const out = path.join(dir, 'out.csv');
    vi.spyOn(crypto, 'randomBytes').mockImplementation((() =>
      Buffer.from('dd'.repeat(12), 'hex')) as unknown as typeof crypto.randomBytes);
    fs.symlinkSync(victim, path.join(dir, `.out.csv.${'dd'.repeat(12)}.tmp`));
    const e = thrown(() => writeFileAtomic(out, 'x'));
    expect(e.message).toMatch(/could not create a temporary file/);
    expect(fs.readFileSync(victim, 'utf8')).toBe(VICTIM_BYTES);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('refuses a destination that is a symbolic link: the link and its target are untouched', () => {
    const out = path.join(dir, 'out.csv');
    fs.symlinkSync(victim, out);
    const e = thrown(() => writeFileAtomic(out, 'overwrite attempt'));
    expect(e.message).toMatch(/is a symbolic link \(to .*victim\.conf\)/);
    expect(e.message).not.toMatch(/internal/i);
    expect(fs.readlinkSync(out)).toBe(victim);
    expect(fs.readFileSync(victim, 'utf8')).toBe(VICTIM_BYTES);
    expect(extraFiles('out.csv')).toEqual([]);
  });

  it('refuses a dangling link at the destination too (it would otherwise create the target)', () => {
    const out = path.join(dir, 'out.csv');
    const target = path.join(path.dirname(victim), 'created-by-link');
    fs.symlinkSync(target, out);
    thrown(() => writeFileAtomic(out, 'x'));
    expect(fs.existsSync(target)).toBe(false);
  });

  it('refuses a folder or a pipe at the destination', () => {
    const folder = path.join(dir, 'report.json');
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, 'keep.txt'), 'kept');
    expect(thrown(() => writeFileAtomic(folder, '{}')).message).toMatch(/is a folder/);
    expect(fs.readFileSync(path.join(folder, 'keep.txt'), 'utf8')).toBe('kept');
    if (process.platform !== 'win32') {
      const fifo = path.join(dir, 'fifo.csv');
      execFileSync('mkfifo', [fifo]);
      expect(thrown(() => writeFileAtomic(fifo, 'x')).message).toMatch(/not a regular file/);
      expect(fs.lstatSync(fifo).isFIFO()).toBe(true);
    }
    expect(extraFiles('report.json', 'fifo.csv')).toEqual([]);
  });

  it('names a missing folder with its own error code', () => {
    const e = thrown(() => writeFileAtomic(path.join(dir, 'no-such-folder', 'out.csv'), 'x'));
    expect(e.code).toBe('output-folder-missing');
  });

  it.skipIf(isRoot)(
    'refuses a read-only folder with "permission denied" and leaves the old file (non-root)',
    () => {
      const out = path.join(dir, 'out.csv');
      fs.writeFileSync(out, 'old');
      fs.chmodSync(dir, 0o555);
      const e = thrown(() => writeFileAtomic(out, 'new'));
      expect(e.message).toMatch(/permission denied \(the folder .* is not writable\)/);
      expect(fs.readFileSync(out, 'utf8')).toBe('old');
    },
  );

  it('a failure in the middle of the write (disk error at fsync) leaves the old file whole and no temp file', () => {
    const out = path.join(dir, 'out.csv');
    fs.writeFileSync(out, 'the previous scores\n');
    vi.spyOn(fs, 'fsyncSync').mockImplementationOnce(() => {
      throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    });
    const e = thrown(() => writeFileAtomic(out, 'x'.repeat(1 << 20)));
    expect(e.message).toMatch(/cannot write .*out\.csv: EIO/);
    expect(fs.readFileSync(out, 'utf8')).toBe('the previous scores\n');
    expect(extraFiles('out.csv')).toEqual([]);
  });

  it('a full disk is said in words, and the old file stays', () => {
    const out = path.join(dir, 'out.csv');
    fs.writeFileSync(out, 'old');
    vi.spyOn(fs, 'writeFileSync').mockImplementationOnce(() => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    });
    expect(thrown(() => writeFileAtomic(out, 'new')).message).toMatch(/the disk is full/);
    expect(fs.readFileSync(out, 'utf8')).toBe('old');
    expect(extraFiles('out.csv')).toEqual([]);
  });
});
