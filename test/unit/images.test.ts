/**
 * Image folders: the scan (content sniffing, full-decode checks, reasons for bad files, symlink
 * loops, permissions, cancellation, progress, speed on 1,000 real CIFAR-10 JPEGs) and decoding to
 * model input (exact pixels, crop vs squash, EXIF rotation, grey/16-bit/alpha, BMP, thumbnails).
 * Skipped when the shared CIFAR-10 images are missing.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeImage,
  decodeThumbnail,
  scanFolder,
  type ScanProgress,
  type ScanResult,
} from '../../src/main/engine/data/images';
import { CancelledError, UserError } from '../../src/main/engine/util/errors';
import {
  bmpPattern,
  cifarDir,
  haveCifar,
  makeBadImageFolder,
  quadrants,
  removeBadImageFolder,
  type BadImageFolder,
} from '../fixtures/badImageFolder';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const isRoot = process.getuid?.() === 0;
const deerDir = path.join(cifarDir, 'train', 'deer');

type Rgb = [number, number, number];
const px = (data: Uint8Array, width: number, x: number, y: number): Rgb => {
  const i = (y * width + x) * 3;
  return [data[i], data[i + 1], data[i + 2]];
};
const near = (actual: Rgb, expected: Rgb, tol: number, what: string): void => {
  const ok = actual.every((v, c) => Math.abs(v - expected[c]) <= tol);
  expect(ok, `${what}: got [${actual}], expected [${expected}] ±${tol}`).toBe(true);
};
const sha256 = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe.skipIf(!haveCifar)(
  haveCifar ? 'image folder scan' : `SKIPPED image tests: CIFAR-10 JPEGs not found under ${cifarDir}`,
  () => {
    let dir: string;
    let fx: BadImageFolder;
    let scan: ScanResult;
    let scanMs: number;
    const at = (rel: string): string => path.join(dir, ...rel.split('/'));
    const item = (rel: string) => {
      const found = scan.items.find((i) => i.relPath === rel);
      expect(found, `no scan item for ${rel}`).toBeDefined();
      return found!;
    };

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-images-'));
      fx = await makeBadImageFolder(dir);
      const t0 = performance.now();
      scan = await scanFolder(dir);
      scanMs = performance.now() - t0;
    });
    afterAll(() => removeBadImageFolder(dir));

    it('terminates despite the symlink loops and reports the real root', () => {
      expect(scan.root).toBe(fs.realpathSync(dir));
      expect(scanMs).toBeLessThan(30_000);
    });

    it('reports exactly the files of the folder: hidden files and OS junk are ignored silently', () => {
      const expected = [...fx.expectedOk, ...Object.keys(fx.expectedUnreadable)].sort();
      expect(scan.items.map((i) => i.relPath).sort()).toEqual(expected);
      const mentioned = [...scan.items, ...scan.problems].map((i) => i.relPath);
      for (const rel of fx.ignored) expect(mentioned).not.toContain(rel);
      expect(mentioned.filter((m) => /(^|\/)(\.|__MACOSX|Thumbs\.db|desktop\.ini)/.test(m))).toEqual([]);
    });

    it('every good file is ok, with its format, display size, hash, size and label', () => {
      for (const rel of fx.expectedOk) {
        const got = item(rel);
        const want = fx.okDetails[rel];
        expect({ rel, status: got.status, reason: got.reason }).toEqual({ rel, status: 'ok', reason: null });
        expect({ rel, format: got.format, width: got.width, height: got.height }).toEqual({ rel, ...want });
        expect(got.contentHash).toBe(sha256(at(rel)));
        expect(got.bytes).toBe(fs.statSync(at(rel)).size);
        expect(got.mtimeMs).toBe(fs.statSync(at(rel)).mtimeMs);
        expect(got.label).toBe(rel.includes('/') ? rel.split('/')[0] : '');
      }
      // content, not extension, decides: a PNG named .txt is a PNG image
      expect(item('good/really-a-png.txt').format).toBe('png');
      expect(item('loose.png').label).toBe('');
      expect(item('good/鹿 élan ñ.jpg').status).toBe('ok');
    });

    it('reports the display size of an EXIF-rotated JPEG (stored 64×48, orientation 6 → 48×64)', () => {
      const got = item('good/exif-rotated.jpg');
      expect([got.width, got.height]).toEqual([48, 64]);
    });

    it('every bad file is unreadable with a reason saying what is wrong', () => {
      for (const [rel, reason] of Object.entries(fx.expectedUnreadable)) {
        const got = item(rel);
        expect({ rel, status: got.status }).toEqual({ rel, status: 'unreadable' });
        expect(got.reason, rel).toContain(reason);
      }
      console.log(
        'reasons:\n' +
          Object.keys(fx.expectedUnreadable)
            .map((rel) => `  ${rel}: ${item(rel).reason}`)
            .join('\n'),
      );
      // format and size are still reported when the content says so
      expect(item('bad/corrupt.jpg').format).toBe('jpeg');
      expect(item('bad/fake.jpg').format).toBeNull();
      expect([item('bad/huge.png').width, item('bad/huge.png').height]).toEqual([30000, 30000]);
      expect(item('bad/empty.jpg').contentHash).toBe(createHash('sha256').digest('hex'));
      expect(item('bad/fake.jpg').label).toBe('bad');
    });

    it('reports symlink loops, dangling links, a second link to a scanned folder and a pipe as problems', () => {
      expect(scan.problems.map((p) => p.relPath).sort()).toEqual(fx.expectedProblems);
      const reason = (rel: string) => scan.problems.find((p) => p.relPath === rel)!.reason;
      expect(reason('bad/loop')).toMatch(/symbolic link loop: points to the scan root/);
      expect(reason('bad/selfloop')).toMatch(/symbolic link loop/);
      expect(reason('bad/dangling.jpg')).toMatch(/broken symbolic link \(its target "no-such-file\.jpg"/);
      expect(reason('good-again')).toMatch(/already scanned/);
      if (fx.expectedProblems.includes('bad/pipe')) expect(reason('bad/pipe')).toMatch(/not a regular file/);
    });

    it('sorts items by relPath with / separators', () => {
      const paths = scan.items.map((i) => i.relPath);
      expect(paths).toEqual([...paths].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      expect(paths.every((p) => !p.includes('\\'))).toBe(true);
    });

    it('gives the same result on a second scan, with one worker or several', async () => {
      const again = await scanFolder(dir, { concurrency: 1 });
      expect(again).toEqual(scan);
    });

    it('gives each broken file its own error message, also when many fail at the same time', async () => {
      // libvips has one global error buffer: concurrent failures could swap or lose their messages
      const crowd = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-images-crowd-'));
      try {
        for (let i = 0; i < 40; i++) {
          fs.copyFileSync(at('bad/truncated.png'), path.join(crowd, `t${i}.png`));
          fs.copyFileSync(at('bad/corrupt.jpg'), path.join(crowd, `c${i}.jpg`));
          fs.copyFileSync(at('good/deer_0.jpg'), path.join(crowd, `g${i}.jpg`));
        }
        const result = await scanFolder(crowd, { concurrency: 8 });
        const want: Record<string, string | null> = {
          t: item('bad/truncated.png').reason,
          c: item('bad/corrupt.jpg').reason,
          g: null,
        };
        for (const got of result.items)
          expect([got.relPath, got.reason]).toEqual([got.relPath, want[got.relPath[0]]]);
      } finally {
        fs.rmSync(crowd, { recursive: true, force: true });
      }
    });

    it.skipIf(isRoot)(
      'a chmod-000 file is "permission denied" and a chmod-000 folder is a problem (non-root run)',
      () => {
        expect(item(fx.locked.file).status).toBe('unreadable');
        expect(item(fx.locked.file).reason).toBe('permission denied');
        expect(item(fx.locked.file).contentHash).toBeNull();
        const p = scan.problems.find((q) => q.relPath === fx.locked.folder);
        expect(p?.reason).toMatch(/permission denied/);
      },
    );

    it.runIf(isRoot && process.platform === 'linux')(
      'as root chmod 000 cannot stop reads (the in-process scan reports those files ok), so the permission case runs in a child process as uid 65534 (nobody)',
      (ctx) => {
        console.warn(
          'running as root: chmod 000 does not stop root from reading, so the permission-denied case is exercised in a child process as uid 65534',
        );
        expect(item(fx.locked.file).status).toBe('ok');
        fs.chmodSync(dir, 0o755); // mkdtemp makes it 0700
        const entry = pathToFileURL(path.join(repoRoot, 'src/main/engine/data/images/index.ts')).href;
        const code = [
          `import { scanFolder } from ${JSON.stringify(entry)};`,
          `const r = await scanFolder(process.env.CFS_SCAN_DIR);`,
          `process.stdout.write(JSON.stringify(r));`,
        ].join('\n');
        const child = spawnSync(
          process.execPath,
          ['--import', 'tsx', '--input-type=module', '--eval', code],
          {
            cwd: repoRoot,
            uid: 65534,
            gid: 65534,
            env: { ...process.env, CFS_SCAN_DIR: dir, HOME: os.tmpdir() },
            encoding: 'utf8',
            timeout: 60_000,
          },
        );
        // our code loads fine in this process, so a child that cannot load it (or cannot start) means
        // uid 65534 cannot read the checkout or Node here, e.g. a clone inside a private folder
        const cannotLoad = /ERR_MODULE_NOT_FOUND|EACCES/.test(child.stderr);
        if (child.error || (child.status !== 0 && cannotLoad)) {
          const why = child.error?.message ?? child.stderr.split('\n').find((l) => /Error/.test(l));
          ctx.skip(`SKIPPED: uid 65534 cannot run the scanner from ${repoRoot}: ${why}`);
        }
        expect(child.status, child.stderr).toBe(0);
        const asNobody = JSON.parse(child.stdout) as ScanResult;
        const lockedFile = asNobody.items.find((i) => i.relPath === fx.locked.file)!;
        expect(lockedFile.status).toBe('unreadable');
        expect(lockedFile.reason).toBe('permission denied');
        expect(lockedFile.contentHash).toBeNull();
        expect(asNobody.problems.find((p) => p.relPath === fx.locked.folder)?.reason).toMatch(
          /permission denied/,
        );
        expect(asNobody.items.some((i) => i.relPath === fx.locked.folderContents)).toBe(false);
        // everything else is as in the root scan
        const others = (r: ScanResult) =>
          r.items.filter(
            (i) => !i.relPath.startsWith(fx.locked.file) && !i.relPath.startsWith(fx.locked.folder),
          );
        expect(others(asNobody)).toEqual(others(scan));
      },
    );

    it('throws a UserError for a root that does not exist or is a file', async () => {
      const missing = (await rejection(scanFolder(path.join(dir, 'no-such-folder')))) as UserError;
      expect(missing).toBeInstanceOf(UserError);
      expect(missing.message).toMatch(/Cannot scan ".*no-such-folder": folder not found/);
      expect(missing.hint).toMatch(/Check the spelling of the path/);
      const file = (await rejection(scanFolder(at('loose.png')))) as UserError;
      expect(file).toBeInstanceOf(UserError);
      expect(file.message).toMatch(/it is a file, not a folder/);
    });

    describe('decodeImage', () => {
      const cifar = path.join(deerDir, '0000.jpg');

      it("decodes a CIFAR JPEG at 32×32 to exactly sharp's own RGB pixels (both resize modes, path or buffer)", async () => {
        const ref = await sharp(cifar).removeAlpha().raw().toBuffer();
        for (const resize of ['center-crop', 'squash'] as const) {
          const out = await decodeImage(cifar, { width: 32, height: 32, resize });
          expect(out).toBeInstanceOf(Uint8Array);
          expect(out.length).toBe(32 * 32 * 3);
          expect(Buffer.from(out).equals(ref)).toBe(true);
        }
        const fromBuffer = await decodeImage(fs.readFileSync(cifar), {
          width: 32,
          height: 32,
          resize: 'squash',
        });
        expect(Buffer.from(fromBuffer).equals(ref)).toBe(true);
      });

      it('center-crop scales the shorter side and keeps the centre; squash keeps everything', async () => {
        const png = await sharp(quadrants(), { raw: { width: 64, height: 48, channels: 3 } })
          .png()
          .toBuffer();
        const crop = await decodeImage(png, { width: 32, height: 32, resize: 'center-crop' });
        // corners keep their quadrant's colour
        near(px(crop, 32, 2, 2), [255, 0, 0], 10, 'crop top-left');
        near(px(crop, 32, 29, 2), [0, 255, 0], 10, 'crop top-right');
        near(px(crop, 32, 2, 29), [0, 0, 255], 10, 'crop bottom-left');
        near(px(crop, 32, 29, 29), [255, 255, 255], 10, 'crop bottom-right');
        // 64×48 → 43×32 then the middle 32 columns: the colour edge stays in the middle
        near(px(crop, 32, 14, 8), [255, 0, 0], 20, 'crop left of centre');
        near(px(crop, 32, 17, 8), [0, 255, 0], 20, 'crop right of centre');

        // a 6-px black band on the left: cropped away by center-crop, kept (squashed) by squash
        const banded = Buffer.alloc(64 * 48 * 3, 255);
        for (let y = 0; y < 48; y++) banded.fill(0, y * 64 * 3, (y * 64 + 6) * 3);
        const bandPng = await sharp(banded, { raw: { width: 64, height: 48, channels: 3 } })
          .png()
          .toBuffer();
        const bandCrop = await decodeImage(bandPng, { width: 32, height: 32, resize: 'center-crop' });
        const bandSquash = await decodeImage(bandPng, { width: 32, height: 32, resize: 'squash' });
        near(px(bandCrop, 32, 0, 16), [255, 255, 255], 40, 'crop: band is cut off');
        near(px(bandSquash, 32, 0, 16), [0, 0, 0], 40, 'squash: band is kept');
        near(px(bandSquash, 32, 31, 16), [255, 255, 255], 10, 'squash right edge');

        const squash = await decodeImage(png, { width: 32, height: 32, resize: 'squash' });
        near(px(squash, 32, 13, 13), [255, 0, 0], 20, 'squash top-left quadrant');
        near(px(squash, 32, 18, 13), [0, 255, 0], 20, 'squash top-right quadrant');
        near(px(squash, 32, 13, 18), [0, 0, 255], 20, 'squash bottom-left quadrant');
        near(px(squash, 32, 18, 18), [255, 255, 255], 20, 'squash bottom-right quadrant');
      });

      it('applies the EXIF orientation (6 = rotate 90° clockwise) before resizing', async () => {
        const file = at('good/exif-rotated.jpg');
        const out = await decodeImage(file, { width: 48, height: 64, resize: 'squash' });
        // stored TL red, TR green, BL blue, BR white → displayed TL blue, TR red, BL white, BR green
        near(px(out, 48, 3, 3), [0, 0, 255], 12, 'top-left');
        near(px(out, 48, 44, 3), [255, 0, 0], 12, 'top-right');
        near(px(out, 48, 3, 60), [255, 255, 255], 12, 'bottom-left');
        near(px(out, 48, 44, 60), [0, 255, 0], 12, 'bottom-right');
        const small = await decodeImage(file, { width: 24, height: 24, resize: 'center-crop' });
        near(px(small, 24, 2, 2), [0, 0, 255], 12, 'cropped top-left');
      });

      it('gives 3 channels for grey, 16-bit grey and RGBA input; alpha is dropped, not premultiplied', async () => {
        const grey = await decodeImage(at('good/grey.png'), { width: 24, height: 20, resize: 'squash' });
        const grey16 = await decodeImage(at('good/grey16.png'), { width: 24, height: 20, resize: 'squash' });
        expect(grey.length).toBe(24 * 20 * 3);
        for (let p = 0; p < 24 * 20; p++) {
          const v = (p * 3) % 256;
          expect([grey[p * 3], grey[p * 3 + 1], grey[p * 3 + 2]]).toEqual([v, v, v]);
          near([grey16[p * 3], grey16[p * 3 + 1], grey16[p * 3 + 2]], [v, v, v], 1, `16-bit pixel ${p}`);
        }
        // every pixel is (200,100,50) with alpha 0..255: dropping alpha leaves (200,100,50) everywhere,
        // also after a resize (premultiplied resizing would darken the transparent pixels)
        for (const [w, h] of [
          [40, 30],
          [20, 15],
          [64, 48],
        ]) {
          const rgba = await decodeImage(at('good/rgba.png'), { width: w, height: h, resize: 'squash' });
          expect(rgba.length).toBe(w * h * 3);
          for (let p = 0; p < w * h; p++)
            near(px(rgba, w, p % w, Math.floor(p / w)), [200, 100, 50], 1, `rgba ${w}×${h}`);
        }
      });

      it('reads the first GIF frame, WebP, TIFF and AVIF', async () => {
        const gif = await decodeImage(at('good/two-frames.gif'), { width: 20, height: 10, resize: 'squash' });
        near(px(gif, 20, 10, 5), [255, 0, 0], 0, 'first frame is red');
        for (const f of ['image.webp', 'image.tiff', 'image.avif']) {
          const out = await decodeImage(at(`good/${f}`), { width: 30, height: 20, resize: 'squash' });
          near(px(out, 30, 15, 10), [10, 200, 30], f === 'image.tiff' ? 0 : 12, f);
        }
      });

      it('reads BMPs exactly: 24-bit bottom-up with row padding, 32-bit top-down bit fields, 8-bit palette', async () => {
        const b24 = await decodeImage(at('good/image.bmp'), { width: 13, height: 7, resize: 'squash' });
        const b32 = await decodeImage(at('good/top-down-32bit.bmp'), {
          width: 5,
          height: 3,
          resize: 'squash',
        });
        for (let y = 0; y < 7; y++)
          for (let x = 0; x < 13; x++) expect(px(b24, 13, x, y)).toEqual(bmpPattern(x, y));
        for (let y = 0; y < 3; y++)
          for (let x = 0; x < 5; x++) expect(px(b32, 5, x, y)).toEqual(bmpPattern(x, y));
        const b8 = await decodeImage(at('good/palette-8bit.bmp'), { width: 6, height: 4, resize: 'squash' });
        for (let y = 0; y < 4; y++) {
          for (let x = 0; x < 6; x++) {
            const v = (x * 40 + y * 10) % 256;
            expect(px(b8, 6, x, y)).toEqual([v, v, v]);
          }
        }
        const big = await decodeImage(at('good/image.bmp'), { width: 26, height: 14, resize: 'squash' });
        expect(big.length).toBe(26 * 14 * 3);
      });

      it('throws a UserError naming the file for bad input, and honours pixelLimit', async () => {
        const cases: [string, RegExp][] = [
          ['bad/corrupt.jpg', /truncated or corrupt JPEG/],
          ['bad/truncated.png', /truncated or corrupt PNG/],
          ['bad/fake.jpg', /not an image \(looks like text\/plain\)/],
          ['bad/empty.jpg', /empty file/],
          ['bad/huge.png', /too large: 30000×30000 px/],
          ['bad/no-such-file.jpg', /file not found/],
        ];
        for (const [rel, reason] of cases) {
          const e = (await rejection(
            decodeImage(at(rel), { width: 8, height: 8, resize: 'squash' }),
          )) as UserError;
          expect(e, rel).toBeInstanceOf(UserError);
          expect(e.message).toContain(at(rel));
          expect(e.message).toMatch(reason);
          expect(e.hint).toMatch(/Scan the folder again|remove or re-export/);
        }
        const limited = (await rejection(
          decodeImage(
            at('good/exif-rotated.jpg'),
            { width: 8, height: 8, resize: 'squash' },
            { pixelLimit: 1000 },
          ),
        )) as UserError;
        expect(limited.message).toMatch(/too large: 48×64 px exceeds the 1000 px limit/);
      });

      it('makes small JPEG thumbnails that fit inside the size and are never enlarged', async () => {
        const thumb = await decodeThumbnail(at('good/exif-rotated.jpg'), 32);
        expect([thumb[0], thumb[1]]).toEqual([0xff, 0xd8]);
        const meta = await sharp(thumb).metadata();
        expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 24, 32]);
        const tiny = await sharp(await decodeThumbnail(cifar, 128)).metadata();
        expect([tiny.width, tiny.height]).toEqual([32, 32]);
      });
    });

    describe('on 1,000 real CIFAR-10 JPEGs', () => {
      it('scans the deer class folder, all ok, reporting progress at most every ~100 ms', async () => {
        const reports: { t: number; p: ScanProgress }[] = [];
        const t0 = performance.now();
        const result = await scanFolder(deerDir, {
          onProgress: (p) => reports.push({ t: performance.now(), p }),
        });
        const seconds = (performance.now() - t0) / 1000;
        console.log(
          `scanned ${result.items.length} CIFAR-10 JPEGs in ${seconds.toFixed(2)} s: ${(result.items.length / seconds).toFixed(0)} files/s (concurrency ${os.availableParallelism()})`,
        );
        expect(result.items).toHaveLength(1000);
        expect(result.problems).toEqual([]);
        expect(result.items.every((i) => i.status === 'ok' && i.format === 'jpeg' && i.label === '')).toBe(
          true,
        );
        expect(result.items.every((i) => i.width === 32 && i.height === 32)).toBe(true);
        expect(new Set(result.items.map((i) => i.contentHash)).size).toBeGreaterThan(990);
        expect(reports.at(-1)!.p).toEqual({ found: 1000, checked: 1000, ok: 1000, skipped: 0 });
        // throttled: consecutive reports ≥ 100 ms apart, except the final one
        for (let i = 1; i < reports.length - 1; i++) {
          expect(reports[i].t - reports[i - 1].t).toBeGreaterThanOrEqual(99);
        }
        for (let i = 1; i < reports.length; i++)
          expect(reports[i].p.checked).toBeGreaterThanOrEqual(reports[i - 1].p.checked);
      });

      it('is cancelled by an already aborted signal, without reporting progress', async () => {
        const ac = new AbortController();
        ac.abort();
        let reports = 0;
        const e = await rejection(scanFolder(deerDir, { signal: ac.signal, onProgress: () => reports++ }));
        expect(e).toBeInstanceOf(CancelledError);
        expect(reports).toBe(0);
      });

      it('is cancelled while scanning: rejects with CancelledError soon after the abort', async () => {
        const ac = new AbortController();
        let abortedAt = 0;
        let checkedAtAbort = 0;
        const e = await rejection(
          scanFolder(deerDir, {
            concurrency: 1,
            signal: ac.signal,
            onProgress: (p) => {
              if (p.checked > 0 && !abortedAt) {
                checkedAtAbort = p.checked;
                abortedAt = performance.now();
                ac.abort();
              }
            },
          }),
        );
        const lag = performance.now() - abortedAt;
        expect(e).toBeInstanceOf(CancelledError);
        expect(checkedAtAbort).toBeLessThan(1000);
        console.log(
          `cancelled after ${checkedAtAbort} of 1000 files; rejected ${lag.toFixed(0)} ms after the abort`,
        );
        expect(lag).toBeLessThan(1000);
      });
    });
  },
);
