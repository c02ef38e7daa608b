/**
 * The PNG case, measured (issue 13): four 16383² RGBA PNGs of ~1 MB each. Before, the scan
 * decoded each one whole to drop its alpha (2.5 GB peak for four, 2.9 GB to extract). Now the CLI
 * refuses them from the header at the default 100 MP limit, and with the limit raised to sharp's
 * 268 MP they are scanned and decoded for extraction (all four at once) streaming, inside the
 * decode memory budget: a child process doing exactly that must peak under 1 GB.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, repoRoot } from '../helpers/cli';

const SIDE = 16383;
const COLOUR = { r: 200, g: 60, b: 30 };

describe('decoding the issue’s 16383² RGBA PNGs stays under 1 GB', () => {
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-bigpng-'));
    const first = path.join(dir, 'big0.png');
    await sharp({ create: { width: SIDE, height: SIDE, channels: 4, background: { ...COLOUR, alpha: 0.5 } } })
      .png({ compressionLevel: 9 })
      .toFile(first);
    for (let i = 1; i < 4; i++) fs.copyFileSync(first, path.join(dir, `big${i}.png`));
  }, 120_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the files are the issue’s: about 1 MB on disk, 268 MP each', () => {
    const size = fs.statSync(path.join(dir, 'big0.png')).size;
    expect(size).toBeGreaterThan(500_000);
    expect(size).toBeLessThan(2_000_000);
  });

  it('`cfstudio dataset add` skips them at the default pixel limit, saying why', () => {
    const ws = path.join(dir, 'ws.cfstudio');
    const r = cli('dataset', 'add', dir, '--name', 'big', '--workspace', ws);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr.match(/too large: 16383×16383 px exceeds the 100 MP limit/g)).toHaveLength(4);
    fs.rmSync(ws, { force: true });
  });

  it('with the limit raised to 268 MP, scanning and decoding all four at once peaks under 1 GB', () => {
    const entry = pathToFileURL(path.join(repoRoot, 'src/main/engine/data/images/index.ts')).href;
    const code = `
      import { scanFolder, decodeImageFile } from ${JSON.stringify(entry)};
      const dir = process.env.CFS_DIR, pixelLimit = 268_402_689;
      const scan = await scanFolder(dir, { pixelLimit });
      const target = { width: 224, height: 224, resize: 'center-crop' };
      const decoded = await Promise.all(
        scan.items.map((i) => decodeImageFile(dir + '/' + i.relPath, target, { pixelLimit, within: scan.root })),
      );
      process.stdout.write(JSON.stringify({
        statuses: scan.items.map((i) => i.status + ':' + i.width + 'x' + i.height),
        centre: decoded.map((d) => Array.from(d.pixels.subarray(112 * 224 * 3 + 112 * 3, 112 * 224 * 3 + 112 * 3 + 3))),
        maxRssBytes: process.resourceUsage().maxRSS * 1024,
      }));
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', code], {
      cwd: repoRoot,
      env: { ...process.env, CFS_DIR: dir },
      encoding: 'utf8',
      timeout: 300_000,
    });
    expect(child.status, child.stderr).toBe(0);
    const out = JSON.parse(child.stdout) as { statuses: string[]; centre: number[][]; maxRssBytes: number };
    console.log(
      `4 × ${SIDE}² RGBA PNG, scan + decode: peak RSS ${(out.maxRssBytes / 2 ** 20).toFixed(0)} MB`,
    );
    expect(out.statuses).toEqual(Array(4).fill(`ok:${SIDE}x${SIDE}`));
    // alpha dropped: the stored colour (±2 from the alpha-weighted resize), not one darkened by half
    for (const px of out.centre)
      [COLOUR.r, COLOUR.g, COLOUR.b].forEach((v, c) => expect(Math.abs(px[c] - v)).toBeLessThanOrEqual(2));
    expect(out.maxRssBytes).toBeLessThan(1024 ** 3);
  });
});
