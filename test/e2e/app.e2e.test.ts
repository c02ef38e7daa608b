/**
 * The desktop flow in a real browser: the built renderer (out/renderer) in Debian's Chromium,
 * driven by Playwright, talking to the real main-process handlers, engine and SQLite workspace
 * through the browser preview (src/main/preview/server.ts). On the shared CIFAR-10 images and
 * MoCo model: pick train/deer as inliers and train/ as contrast, train a short CF run, then check
 * the histogram, the Fig. 5 strip and the gallery order against the engine, move the threshold,
 * open an image, score test/horse and export the ranked CSV. Screenshots of each view go to
 * test-artifacts/e2e/.
 *
 * Needs `npm run build` first (`npm test` does it) and /usr/bin/chromium (.ci/run installs it).
 * The workspace starts as a copy of the shared CIFAR workspace (features already extracted, the
 * MoCo extractor registered), so extraction is a cache hit and CI stays in budget.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scoreDetector } from '../../src/main/engine/detector/scoreDetector';
import { histograms } from '../../src/main/engine/eval/histogram';
import { runDetector } from '../../src/main/engine/studio';
import { Workspace } from '../../src/main/engine/store';
import type { EvaluationInfo } from '../../src/main/engine/store';
import { histogramRange } from '../../src/main/engine/eval/histogram';
import { startPreviewServer, type PreviewServer } from '../../src/main/preview/server';
import { repoRoot } from '../helpers/cli';
import { cifarDir, cifarMissing, copyCifarWorkspace } from '../helpers/cifarWorkspace';

const CHROMIUM = process.env.CFSTUDIO_CHROMIUM ?? '/usr/bin/chromium';
const built = fs.existsSync(path.join(repoRoot, 'out', 'renderer', 'index.html'));
const skipReason = cifarMissing
  ? 'the shared CIFAR-10 images or MoCo model are missing'
  : !fs.existsSync(CHROMIUM)
    ? `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CFSTUDIO_CHROMIUM)`
    : !built
      ? 'the app is not built (npm run build)'
      : null;
const shots = path.join(repoRoot, 'test-artifacts', 'e2e');

describe.skipIf(skipReason !== null)(
  skipReason ? `SKIPPED: browser UI test: ${skipReason}` : 'the desktop flow in Chromium (browser preview)',
  () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-e2e-'));
    let wsFile = '';
    let server: PreviewServer;
    let browser: Browser;
    let page: Page;
    let runId = 0;
    const consoleErrors: string[] = [];

    const shot = async (name: string) => {
      fs.mkdirSync(shots, { recursive: true });
      await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
    };
    const byTest = (id: string) => page.getByTestId(id);
    const readonlyWs = <T>(fn: (ws: Workspace) => T): T => {
      const ws = Workspace.open(wsFile, { readonly: true });
      try {
        return fn(ws);
      } finally {
        ws.close();
      }
    };

    beforeAll(async () => {
      wsFile = copyCifarWorkspace(dir).file;
      server = await startPreviewServer({
        workspaceFile: wsFile,
        outDir: path.join(repoRoot, 'out'),
        log: (m) => consoleErrors.push(m),
      });
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      const context = await browser.newContext({
        viewport: { width: 1440, height: 960 },
        reducedMotion: 'reduce',
      });
      page = await context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(`console: ${m.text()}`);
      });
      page.on('pageerror', (e) => consoleErrors.push(`page: ${e.message}`));
      // a failed request's console line has no URL; keep the URL here (the favicon is allowed to be missing)
      page.on('response', (r) => {
        if (r.status() >= 400 && !r.url().endsWith('/favicon.ico'))
          consoleErrors.push(`HTTP ${r.status()} ${r.url()}`);
      });
      await page.goto(server.url);
    }, 1_800_000);

    afterAll(async () => {
      await browser?.close();
      await server?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('opens on the workspace, shows the training backend, and has no console errors', async () => {
      await expect.poll(() => byTest('app-workspace').textContent()).toContain(wsFile);
      await expect.poll(() => byTest('app-backend').textContent(), { timeout: 60_000 }).toMatch(/\w/);
      await shot('00-start');
    }, 120_000);

    it('new detector: pick train/deer (thumbnails, counts) and train/ as contrast', async () => {
      await byTest('nav-new').click();
      server.queueDialogAnswer(path.join(cifarDir, 'train', 'deer'));
      await byTest('pick-inliers').click();
      const card = byTest('dataset-card').first();
      await expect
        .poll(() => card.getByTestId('dataset-ok-count').textContent(), { timeout: 120_000 })
        .toMatch(/1[,. ]?000/);
      await expect.poll(() => page.getByTestId('thumb').count()).toBeGreaterThan(8);
      // thumbnails really load (served by the preview's image route)
      await expect
        .poll(
          () =>
            page
              .getByTestId('thumb')
              .first()
              .evaluate((img) => (img as HTMLImageElement).naturalWidth),
          { timeout: 30_000 },
        )
        .toBeGreaterThan(0);
      server.queueDialogAnswer(path.join(cifarDir, 'train'));
      await byTest('pick-contrast').click();
      await expect
        .poll(async () => (await page.getByTestId('dataset-ok-count').allTextContents()).join(' '), {
          timeout: 300_000,
        })
        .toMatch(/10[,. ]?000/);
      await shot('01-new-detector');
    }, 600_000);

    it('trains a short CF run (400 steps) with live progress and loss curves, then opens the run', async () => {
      const ex = byTest('select-extractor');
      await expect.poll(() => ex.locator('option').count()).toBeGreaterThan(0);
      await byTest('select-method').selectOption('cf');
      // long enough (a few seconds on ort) for the test to see the live training progress
      await byTest('input-steps').fill('400');
      await byTest('input-hidden').fill('64');
      await byTest('input-blocks').fill('2');
      await byTest('input-seed').fill('3');
      await byTest('start-train').click();
      await expect
        .poll(() => byTest('job-progress').getAttribute('data-phase'), { timeout: 300_000 })
        .toMatch(/^train/);
      await expect
        .poll(async () => Number(await byTest('job-progress').getAttribute('data-done')), {
          timeout: 300_000,
        })
        .toBeGreaterThan(30);
      await byTest('loss-chart').waitFor({ state: 'visible' });
      await shot('02-training');
      await byTest('run-view').waitFor({ state: 'visible', timeout: 600_000 });
      runId = Number(await byTest('run-view').getAttribute('data-run-id'));
      expect(runId).toBeGreaterThan(0);
      const run = readonlyWs((ws) => ws.runs.get(runId)!);
      expect(run.status).toBe('done');
      expect(run.method).toBe('cf');
      await expect.poll(() => byTest('run-status').textContent()).toMatch(/done/i);
      await shot('03-run');
      // nothing sticks out to the right (no horizontal scrolling in the run view)
      const overflow = await page.evaluate(() =>
        [document.documentElement, ...Array.from(document.querySelectorAll('main'))]
          .filter((e) => e.scrollWidth > e.clientWidth + 1)
          .map((e) => `${e.tagName}: ${e.scrollWidth} px of content in ${e.clientWidth} px`),
      );
      expect(overflow).toEqual([]);
    }, 900_000);

    it('the histogram shows the engine’s scores per group', async () => {
      const expected = readonlyWs((ws) => {
        const run = ws.runs.get(runId)!;
        const ev = (run.metrics as { evaluation: EvaluationInfo }).evaluation;
        const held = new Set(ev.heldOutItemIds);
        const scores = ws.scores.list(runId);
        const items = new Map(ws.items.byIds(scores.map((s) => s.itemId)).map((i) => [i.id, i]));
        const groups = new Map<string, number[]>();
        for (const s of scores) {
          const it = items.get(s.itemId)!;
          const g = held.has(it.id) ? 'inliers (held-out)' : `contrast: ${it.label}`;
          groups.set(g, [...(groups.get(g) ?? []), s.score]);
        }
        // the same display range rule the app uses (a long upper tail is cut at the 99th percentile)
        const range = histogramRange(scores.map((x) => x.score));
        return histograms(
          [...groups].map(([name, v]) => ({ name, scores: v })),
          40,
          range.clippedAbove === null ? undefined : { lo: range.lo, hi: range.clippedAbove },
        );
      });
      const rows = await byTest('histogram-table')
        .locator('tr')
        .evaluateAll((trs) =>
          trs
            .map((tr) => ({
              group: tr.querySelector('th')?.textContent?.trim() ?? '',
              counts: Array.from(tr.querySelectorAll('td')).map((td) => Number(td.textContent)),
            }))
            .filter((r) => r.counts.length > 0),
        );
      expect(rows.length).toBe(expected.groups.length);
      for (const g of expected.groups) {
        const row = rows.find((r) => r.group === g.name);
        expect(row, `histogram row for ${g.name}`).toBeDefined();
        expect(row!.counts).toEqual(g.counts);
      }
      expect(rows.map((r) => r.group)).toContain('contrast: horse');
      await byTest('histogram-chart').waitFor({ state: 'visible' });
      await byTest('roc-chart').waitFor({ state: 'visible' });
      await expect.poll(() => byTest('run-auroc').textContent()).toMatch(/\d\d[.,]\d/);
    }, 120_000);

    it('the Fig. 5 strip shows the stored picks in order', async () => {
      const picks = readonlyWs((ws) => ws.scores.picks(runId));
      expect(picks).toHaveLength(9);
      const tiles = byTest('fig5-tile');
      await expect.poll(() => tiles.count()).toBe(9);
      const shown = await tiles.evaluateAll((els) =>
        els.map((e) => ({
          group: e.getAttribute('data-group'),
          itemId: Number(e.getAttribute('data-item-id')),
        })),
      );
      expect(shown).toEqual(picks.map((p) => ({ group: p.group, itemId: p.itemId })));
      await byTest('fig5-strip').scrollIntoViewIfNeeded();
      await shot('04-fig5');
    }, 120_000);

    it('the gallery is ranked like the engine scores the images, most anomalous first', async () => {
      const gallery = byTest('gallery');
      await gallery.scrollIntoViewIfNeeded();
      await expect.poll(() => byTest('gallery-tile').count()).toBeGreaterThan(10);
      const shown = await byTest('gallery-tile').evaluateAll((els) =>
        els.map((e) => ({
          itemId: Number(e.getAttribute('data-item-id')),
          rank: Number(e.getAttribute('data-rank')),
          score: Number(e.getAttribute('data-score')),
        })),
      );
      shown.sort((a, b) => a.rank - b.rank);
      expect(shown[0].rank).toBe(1);
      // the engine, independently: the run's detector on the stored features of every scored item
      const engineTop = await (async () => {
        const ws = Workspace.open(wsFile, { readonly: true });
        try {
          const run = ws.runs.get(runId)!;
          const { detector } = runDetector(ws, runId);
          const ids = ws.scores.list(runId).map((s) => s.itemId);
          const items = ws.items.byIds(ids);
          const { dim, matrix } = ws.features.load(
            run.extractorId!,
            items.map((i) => i.contentHash!),
          );
          const { score } = await scoreDetector(
            detector,
            { rows: items.length, cols: dim, data: matrix },
            'e2e',
          );
          return items
            .map((it, i) => ({ itemId: it.id, score: score[i] }))
            .sort((a, b) => b.score - a.score || a.itemId - b.itemId);
        } finally {
          ws.close();
        }
      })();
      for (const s of shown.slice(0, 20)) {
        const e = engineTop[s.rank - 1];
        expect(s.score).toBeCloseTo(e.score, 4);
        // ties aside, the same image at the same rank
        if (
          Math.abs(engineTop[s.rank]?.score - e.score) > 1e-6 &&
          Math.abs(engineTop[s.rank - 2]?.score - e.score) > 1e-6
        )
          expect(s.itemId).toBe(e.itemId);
      }
      await shot('05-gallery');
    }, 300_000);

    it('moving the threshold re-flags the gallery; the threshold is stored with the run', async () => {
      const fpr = byTest('threshold-fpr');
      await fpr.fill('10');
      await fpr.press('Enter');
      await expect
        .poll(
          () =>
            readonlyWs(
              (ws) =>
                (ws.runs.get(runId)!.metrics as { threshold?: { targetFpr: number } }).threshold?.targetFpr,
            ),
          { timeout: 30_000 },
        )
        .toBeCloseTo(0.1, 6);
      const t = readonlyWs(
        (ws) => (ws.runs.get(runId)!.metrics as { threshold: { threshold: number } }).threshold.threshold,
      );
      const expectedFlagged = readonlyWs((ws) => ws.scores.list(runId).filter((s) => s.score >= t).length);
      await expect
        .poll(() => byTest('flagged-count').textContent())
        .toMatch(new RegExp(`\\b${expectedFlagged.toLocaleString('en-US').replace(',', '[,. ]?')}\\b`));
      const flags = await byTest('gallery-tile').evaluateAll((els) =>
        els.map((e) => ({
          score: Number(e.getAttribute('data-score')),
          flagged: e.getAttribute('data-flagged') === 'true',
        })),
      );
      expect(flags.length).toBeGreaterThan(0);
      for (const f of flags) expect(f.flagged).toBe(f.score >= t);
      await shot('06-threshold');
    }, 120_000);

    it('clicking an image shows its score, rank, file and nearest training images', async () => {
      const first = byTest('gallery-tile').first();
      const itemId = Number(await first.getAttribute('data-item-id'));
      await first.click();
      const detail = byTest('item-detail');
      await detail.waitFor({ state: 'visible' });
      const file = readonlyWs((ws) => {
        const it = ws.items.get(itemId)!;
        return path.join(ws.datasets.get(it.datasetId)!.root, it.relPath);
      });
      await expect.poll(() => detail.getByTestId('item-path').textContent()).toContain(file);
      await expect.poll(() => detail.getByTestId('item-rank').textContent()).toMatch(/\b1\b/);
      await expect.poll(() => detail.getByTestId('neighbor-tile').count(), { timeout: 30_000 }).toBe(6);
      await shot('07-item-detail');
    }, 120_000);

    it('scores test/horse into a ranked, flagged list and exports it as CSV', async () => {
      await page.keyboard.press('Escape');
      server.queueDialogAnswer(path.join(cifarDir, 'test', 'horse'));
      await byTest('score-folder').click();
      await expect
        .poll(async () => Number(await byTest('run-view').getAttribute('data-run-id')), { timeout: 300_000 })
        .not.toBe(runId);
      const scoreRunId = Number(await byTest('run-view').getAttribute('data-run-id'));
      const stored = readonlyWs((ws) => ({
        run: ws.runs.get(scoreRunId)!,
        n: ws.scores.list(scoreRunId).length,
      }));
      expect(stored.run.parentRunId).toBe(runId);
      expect(stored.n).toBe(1000);
      await expect.poll(() => byTest('gallery-tile').count(), { timeout: 60_000 }).toBeGreaterThan(5);
      await shot('08-scored-horse');
      const csv = path.join(dir, 'horse-ranked.csv');
      server.queueDialogAnswer(csv);
      await byTest('export-csv').click();
      await expect.poll(() => byTest('export-done').textContent(), { timeout: 60_000 }).toContain(csv);
      const lines = fs.readFileSync(csv, 'utf8').trim().split('\n');
      expect(lines[0]).toBe('rank,score,flagged,group,path,label');
      expect(lines).toHaveLength(1001);
      const scores = lines.slice(1).map((l) => Number(l.split(',')[1]));
      for (let i = 1; i < scores.length; i++) expect(scores[i - 1]).toBeGreaterThanOrEqual(scores[i]);
    }, 600_000);

    it('runs list and comparison show both runs', async () => {
      await byTest('nav-runs').click();
      await expect.poll(() => byTest('run-row').count()).toBeGreaterThanOrEqual(2);
      await shot('09-runs');
      await byTest('nav-compare').click();
      await shot('10-compare');
      expect(consoleErrors.filter((e) => !/^console: Failed to load resource/.test(e))).toEqual([]);
    }, 120_000);
  },
);
