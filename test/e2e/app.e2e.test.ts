/**
 * The desktop flow in a real browser: the built renderer (out/renderer) in Debian's Chromium,
 * driven by Playwright, talking to the real main-process handlers, engine and SQLite workspace
 * through the browser preview (src/main/preview/server.ts). On the shared CIFAR-10 images and
 * MoCo model: pick train/deer as inliers and train/ as contrast, train a CF run and follow it live
 * in its run view, then check the score distributions, the Fig. 5 strip and the gallery order
 * against the engine, move the threshold (the distribution chart's line follows the slider; the
 * decision metrics follow the threshold), open an image, score test/horse and export the ranked
 * CSV; mark false alarms and confirmed anomalies with the keyboard and multi-select, retrain with
 * them and check the before/after panel, and the prototypes strip. Screenshots of each view, at
 * 1280×800 and 1920×1080 (the whole scrolled view), go to test-artifacts/e2e/.
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
import type { CfStudioBridge } from '../../src/shared/bridge';
import type { RunDetail, RunSummary } from '../../src/shared/ipc';
import { formatTick } from '../../src/renderer/src/charts/scoreAxis';
import { formatAuroc } from '../../src/renderer/src/lib/format';
import { scoreDetector } from '../../src/main/engine/detector/scoreDetector';
import { runDetector } from '../../src/main/engine/studio';
import { Workspace } from '../../src/main/engine/store';
import type { EvaluationInfo } from '../../src/main/engine/store';
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

    /** the window size the test runs at; screenshots are also taken at 1920×1080 */
    const VIEWPORT = { width: 1280, height: 800 };
    const SHOT_SIZES = [VIEWPORT, { width: 1920, height: 1080 }];
    /**
     * Screenshots of the whole view (the app scrolls inside <main>: for the picture it is unrolled)
     * at 1280×800 and 1920×1080, as NAME-1280x800.png and NAME-1920x1080.png.
     */
    const shot = async (name: string) => {
      fs.mkdirSync(shots, { recursive: true });
      // (through the CSSOM: the page's CSP allows no inline <style>)
      const unroll = (on: boolean) =>
        page.evaluate((unrolled) => {
          const shell = document.querySelector<HTMLElement>('.shell');
          const content = document.querySelector<HTMLElement>('.content');
          if (shell) shell.style.height = unrolled ? 'auto' : '';
          if (shell) shell.style.minHeight = unrolled ? '100vh' : '';
          if (content) content.style.overflow = unrolled ? 'visible' : '';
        }, on);
      await unroll(true);
      try {
        for (const size of SHOT_SIZES) {
          await page.setViewportSize(size);
          // charts follow their container's size on the next frames
          await page.waitForTimeout(250);
          await page.screenshot({
            path: path.join(shots, `${name}-${size.width}x${size.height}.png`),
            fullPage: true,
          });
        }
      } finally {
        await unroll(false);
        await page.setViewportSize(VIEWPORT);
        await page.waitForTimeout(100);
      }
    };
    /** `runs:get` as the renderer calls it (the preview bridge of the page) */
    const runsGet = (id: number): Promise<RunDetail> =>
      page.evaluate(
        (runId) =>
          (window as unknown as { cfstudioBridge: CfStudioBridge }).cfstudioBridge.runsGet({ id: runId }),
        id,
      );
    /** `runs:list` as the renderer calls it */
    const runsList = (): Promise<RunSummary[]> =>
      page.evaluate(() =>
        (window as unknown as { cfstudioBridge: CfStudioBridge }).cfstudioBridge.runsList(),
      );
    const attrNum = async (testid: string, attr: string) => Number(await byTest(testid).getAttribute(attr));
    /** for polls that wait on the engine (a busy 2-core machine can take seconds) */
    const SLOW = { timeout: 30_000 };
    const byTest = (id: string) => page.getByTestId(id);
    /**
     * The next native dialog answers `answer`: queued the way the preview allows it (started with
     * allowTypedPaths): a same-origin JSON POST from the page with the preview's header.
     */
    const queueDialogAnswer = async (answer: string) => {
      const status = await page.evaluate(
        async (a) =>
          (
            await fetch('/__preview/dialog', {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'x-cfstudio-preview': '1' },
              body: JSON.stringify({ answers: [a] }),
            })
          ).status,
        answer,
      );
      expect(status).toBe(200);
    };
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
        allowTypedPaths: true,
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
        viewport: VIEWPORT,
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
      await queueDialogAnswer(path.join(cifarDir, 'train', 'deer'));
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
      await queueDialogAnswer(path.join(cifarDir, 'train'));
      await byTest('pick-contrast').click();
      await expect
        .poll(async () => (await page.getByTestId('dataset-ok-count').allTextContents()).join(' '), {
          timeout: 300_000,
        })
        .toMatch(/10[,. ]?000/);
      await shot('01-new-detector');
    }, 600_000);

    it('trains a CF run (1000 steps): its run view opens at once, follows it live, then shows the results in place', async () => {
      const ex = byTest('select-extractor');
      await expect.poll(() => ex.locator('option').count()).toBeGreaterThan(0);
      await byTest('select-method').selectOption('cf');
      // a bad value is refused in the form, saying why, and the run cannot start
      await byTest('input-hidden').fill('3');
      await expect
        .poll(() => page.locator('.problems').textContent(), SLOW)
        .toContain('Hidden units must be a whole number ≥ 4 (or empty: auto).');
      expect(await byTest('start-train').isDisabled()).toBe(true);
      await shot('01b-bad-input');
      // long enough (~10 s on ort, more on a busy machine) to watch the run view follow it
      await byTest('input-steps').fill('1000');
      await byTest('input-hidden').fill('64');
      await byTest('input-blocks').fill('2');
      await byTest('input-seed').fill('3');
      // a mark on this document: still there at the end means no page reload
      await page.evaluate(() => ((window as unknown as { e2eDocument: string }).e2eDocument = 'same'));
      await byTest('start-train').click();
      // the job records its run first: the run view opens and follows it
      await byTest('live-run').waitFor({ state: 'visible', timeout: 300_000 });
      runId = Number(await byTest('run-view').getAttribute('data-run-id'));
      expect(runId).toBeGreaterThan(0);
      await expect.poll(() => byTest('run-status').textContent(), SLOW).toMatch(/running|queued/);
      await expect
        .poll(() => byTest('live-run').getAttribute('data-phase'), { timeout: 300_000 })
        .toMatch(/^train/);
      // the view polls the run (~1/s): steps, the loss curve and the share above ε grow
      const firstDone = await attrNum('live-run', 'data-done');
      const firstPoints = await attrNum('loss-chart', 'data-points');
      await expect
        .poll(() => attrNum('live-run', 'data-done'), { timeout: 60_000 })
        .toBeGreaterThan(firstDone);
      await expect
        .poll(() => attrNum('loss-chart', 'data-points'), { timeout: 60_000 })
        .toBeGreaterThan(firstPoints);
      await expect.poll(() => byTest('live-above-eps').textContent(), SLOW).toMatch(/\d %/);
      await expect.poll(() => byTest('live-rate').textContent(), SLOW).toMatch(/\d\/s/);
      const live = await runsGet(runId);
      expect(live.status).toBe('running');
      expect(live.live?.phase).toMatch(/^train/);
      expect(live.live?.total).toBe(1000);
      await shot('02-training');
      // it ends: the same view shows the results, without a reload
      await expect.poll(() => byTest('run-status').textContent(), { timeout: 600_000 }).toMatch(/done/i);
      await byTest('distribution-chart').waitFor({ state: 'visible', timeout: 60_000 });
      expect(await page.evaluate(() => (window as unknown as { e2eDocument?: string }).e2eDocument)).toBe(
        'same',
      );
      expect(Number(await byTest('run-view').getAttribute('data-run-id'))).toBe(runId);
      const run = readonlyWs((ws) => ws.runs.get(runId)!);
      expect(run.status).toBe('done');
      expect(run.method).toBe('cf');
      await expect
        .poll(() => byTest('loss-chart').getAttribute('data-points'), SLOW)
        .toBe(String(readonlyWs((ws) => ws.runs.losses(runId).length)));
      await shot('03-run');
      // nothing sticks out to the right (no horizontal scrolling in the run view)
      const overflow = await page.evaluate(() =>
        [document.documentElement, ...Array.from(document.querySelectorAll('main'))]
          .filter((e) => e.scrollWidth > e.clientWidth + 1)
          .map((e) => `${e.tagName}: ${e.scrollWidth} px of content in ${e.clientWidth} px`),
      );
      expect(overflow).toEqual([]);
    }, 900_000);

    it('the distribution chart shows the engine’s scores per group: inliers against all anomalies', async () => {
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
        return groups;
      });
      const rows = await byTest('distribution-table')
        .locator('tbody tr')
        .evaluateAll((trs) =>
          trs.map((tr) => ({
            group: tr.getAttribute('data-group') ?? '',
            count: Number(tr.getAttribute('data-count')),
            median: tr.querySelector('td[data-q="50"]')?.textContent?.trim() ?? '',
          })),
        );
      expect(rows.map((r) => r.group).sort()).toEqual([...expected.keys()].sort());
      for (const [group, scores] of expected) {
        const row = rows.find((r) => r.group === group)!;
        expect(row.count, group).toBe(scores.length);
        // the engine's percentiles: linear interpolation between the sorted scores
        const sorted = [...scores].sort((a, b) => a - b);
        const x = 0.5 * (sorted.length - 1);
        const lo = Math.floor(x);
        const median = sorted[lo] + (sorted[Math.min(sorted.length - 1, lo + 1)] - sorted[lo]) * (x - lo);
        expect(row.median, group).toBe(formatTick(median));
      }
      // two curves by default: the held-out inliers, and all contrast groups together
      const chart = byTest('distribution-chart');
      expect(await chart.getAttribute('data-series')).toBe(
        `inliers (held-out)|anomalies (${expected.size - 1} groups)`,
      );
      // a group can be left out of the anomalies, and back
      const horse = page.locator('[data-testid="distribution-group"][data-group="contrast: horse"]');
      await horse.uncheck();
      await expect
        .poll(() => chart.getAttribute('data-series'), SLOW)
        .toBe(`inliers (held-out)|anomalies (${expected.size - 2} groups)`);
      await horse.check();
      await expect.poll(() => byTest('distribution-axis-note').textContent(), SLOW).toMatch(/symmetric log/);
      await byTest('roc-chart').waitFor({ state: 'visible' });
      await expect.poll(() => byTest('run-auroc').textContent()).toMatch(/\d\d[.,]\d/);
      // AUPR beside AUROC, as the engine computes it
      const detail = await runsGet(runId);
      expect(Number(await byTest('run-aupr').getAttribute('data-value'))).toBe(detail.decision!.aupr);
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
      // the distribution chart's threshold line is at the stored threshold
      const chart = byTest('distribution-chart');
      await expect
        .poll(() => chart.getAttribute('data-threshold'), SLOW)
        .toBe(await byTest('threshold-value').getAttribute('data-value'));
      expect(Number(await chart.getAttribute('data-threshold'))).toBeCloseTo(t, 9);
      // precision, recall, F1 and FPR at this threshold are the engine's
      const expectDecisionShown = async () => {
        const d = (await runsGet(runId)).decision!;
        const shown = async (id: string) => Number(await byTest(id).getAttribute('data-value'));
        expect(await shown('decision-aupr')).toBe(d.aupr);
        expect(await shown('decision-fpr95')).toBe(d.fprAt95Tpr);
        expect(await shown('decision-precision')).toBe(d.atThreshold!.precision);
        expect(await shown('decision-recall')).toBe(d.atThreshold!.recall);
        expect(await shown('decision-f1')).toBe(d.atThreshold!.f1);
        expect(await shown('decision-fpr')).toBe(d.atThreshold!.fpr);
        return d;
      };
      const at10 = await expectDecisionShown();
      await shot('06-threshold');

      // dragging the slider moves the line before the engine answers; on release the stored one
      // (once the prototypes strip above has loaded: the page holds still)
      await expect
        .poll(() => byTest('prototypes').getAttribute('data-state'), { timeout: 120_000 })
        .toBe('ready');
      const slider = byTest('threshold-slider');
      await slider.scrollIntoViewIfNeeded();
      const before = Number(await chart.getAttribute('data-threshold'));
      // a drag, as the slider reports it: 'input' events while it moves, one 'change' on release
      // (dispatched, not a real mouse drag: the same events, without the flakiness of pointer capture)
      const dragTo = (position: number) =>
        slider.evaluate((el, v) => {
          (el as HTMLInputElement).value = String(v);
          el.dispatchEvent(new Event('input', { bubbles: true }));
        }, position);
      const release = () => slider.evaluate((el) => el.dispatchEvent(new Event('change', { bubbles: true })));
      // towards a lower target FPR (left): a higher threshold, estimated while it moves
      await dragTo(60);
      await expect.poll(() => chart.getAttribute('data-estimated'), SLOW).toBe('true');
      const left = Number(await chart.getAttribute('data-threshold'));
      expect(left).toBeGreaterThan(before);
      // then right (a higher FPR, ~20 %): the line follows to a lower threshold
      await dragTo(170);
      await expect
        .poll(async () => Number(await chart.getAttribute('data-threshold')), SLOW)
        .toBeLessThan(before);
      expect(await chart.getAttribute('data-estimated')).toBe('true');
      const dragged = Number(await chart.getAttribute('data-threshold'));
      await chart.screenshot({ path: path.join(shots, '06-threshold-drag-chart.png') });
      await release();
      await expect.poll(() => chart.getAttribute('data-estimated'), { timeout: 30_000 }).toBe('false');
      const stored = await byTest('threshold-value').getAttribute('data-value');
      expect(await chart.getAttribute('data-threshold')).toBe(stored);
      // the estimate was close to what the engine picked
      expect(Math.abs(dragged - Number(stored))).toBeLessThan(Math.abs(before - Number(stored)));
      const dragDecision = await expectDecisionShown();
      expect(dragDecision.atThreshold!.recall).toBeGreaterThan(at10.atThreshold!.recall);
      await shot('06-threshold-dragged');
      // back to 10 % for the steps below
      await fpr.fill('10');
      await fpr.press('Enter');
      await expect
        .poll(() => byTest('threshold-value').getAttribute('data-value'), { timeout: 30_000 })
        .toBe(String(t));
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
      await queueDialogAnswer(path.join(cifarDir, 'test', 'horse'));
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
      await queueDialogAnswer(csv);
      await byTest('export-csv').click();
      await expect.poll(() => byTest('export-done').textContent(), { timeout: 60_000 }).toContain(csv);
      const lines = fs.readFileSync(csv, 'utf8').trim().split('\n');
      expect(lines[0]).toBe('rank,score,flagged,group,path,label');
      expect(lines).toHaveLength(1001);
      const scores = lines.slice(1).map((l) => Number(l.split(',')[1]));
      for (let i = 1; i < scores.length; i++) expect(scores[i - 1]).toBeGreaterThanOrEqual(scores[i]);
    }, 600_000);

    const openRun = async (id: number) => {
      await byTest('nav-runs').click();
      await page.locator(`[data-testid="run-row"][data-run-id="${id}"] [data-testid="run-open"]`).click();
      await expect.poll(() => byTest('run-view').getAttribute('data-run-id'), SLOW).toBe(String(id));
      await byTest('gallery-tile').first().waitFor({ state: 'visible', timeout: 60_000 });
    };
    const marksIn = (id: number) =>
      readonlyWs((ws) =>
        ws.feedback
          .list(id)
          .map((m) => ({ itemId: m.itemId, mark: m.mark }))
          .sort((a, b) => a.itemId - b.itemId),
      );
    const tileIds = (sel: string) =>
      page.locator(sel).evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-item-id'))));
    let retrainedId = 0;

    it('marks false alarms and confirmed anomalies with the keyboard and multi-select', async () => {
      await openRun(runId);
      const tiles = byTest('gallery-tile');
      // false alarms: held-out inliers the threshold flags (the top of their ranked list)
      await byTest('gallery-group-filter').selectOption('inliers (held-out)');
      await expect.poll(() => tiles.first().getAttribute('data-flagged'), SLOW).toBe('true');
      await tiles.nth(0).click();
      await tiles.nth(2).click({ modifiers: ['Shift'] });
      await expect.poll(() => byTest('selection-count').getAttribute('data-count'), SLOW).toBe('3');
      const normals = await tileIds('[data-testid="gallery-tile"][data-selected="true"]');
      expect(normals).toHaveLength(3);
      // the focus is on the tile clicked last; N marks the selection normal
      await expect
        .poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-index')), SLOW)
        .toBe('2');
      await page.keyboard.press('n');
      await expect
        .poll(() => page.locator('[data-testid="gallery-tile"][data-mark="normal"]').count(), SLOW)
        .toBe(3);
      expect(await tiles.nth(0).getAttribute('aria-label')).toContain('marked normal (a false alarm)');

      // confirmed anomalies among the horses: click, Ctrl-click, Ctrl-click, then A
      await byTest('gallery-group-filter').selectOption('contrast: horse');
      await expect.poll(() => tiles.first().getAttribute('title'), SLOW).toContain('contrast: horse');
      await tiles.nth(0).click();
      await tiles.nth(2).click({ modifiers: ['Control'] });
      await tiles.nth(4).click({ modifiers: ['Control'] });
      await expect.poll(() => byTest('selection-count').getAttribute('data-count'), SLOW).toBe('3');
      const anomalies = await tileIds('[data-testid="gallery-tile"][data-selected="true"]');
      await page.keyboard.press('a');
      await expect
        .poll(() => page.locator('[data-testid="gallery-tile"][data-mark="anomaly"]').count(), SLOW)
        .toBe(3);
      // the arrow keys move the selection; U clears a mark
      await tiles.nth(4).click();
      await page.keyboard.press('ArrowRight');
      await expect
        .poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-index')), SLOW)
        .toBe('5');
      expect(await tiles.nth(5).getAttribute('data-selected')).toBe('true');
      await page.keyboard.press('ArrowLeft');
      await expect
        .poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-index')), SLOW)
        .toBe('4');
      await page.keyboard.press('u');
      await expect
        .poll(() => page.locator('[data-testid="gallery-tile"][data-mark="anomaly"]').count(), SLOW)
        .toBe(2);
      // the image detail shows the mark of the open image
      await expect.poll(() => byTest('item-mark').getAttribute('data-mark'), SLOW).toBe('');
      await tiles.nth(0).click();
      await expect.poll(() => byTest('item-mark').getAttribute('data-mark'), SLOW).toBe('anomaly');
      await expect.poll(() => byTest('mark-counts').getAttribute('data-normal'), SLOW).toBe('3');
      expect(await byTest('mark-counts').getAttribute('data-anomaly')).toBe('2');
      // what the workspace stores
      const expected = [
        ...normals.map((itemId) => ({ itemId, mark: 'normal' })),
        ...anomalies.filter((id) => id !== anomalies[2]).map((itemId) => ({ itemId, mark: 'anomaly' })),
      ].sort((a, b) => a.itemId - b.itemId);
      expect(marksIn(runId)).toEqual(expected);
      await shot('11-marks');
    }, 120_000);

    it('retrains with the feedback: progress, then the new run with before/after', async () => {
      await page.keyboard.press('Escape');
      const retrain = byTest('retrain');
      await expect.poll(() => retrain.isEnabled(), SLOW).toBe(true);
      // the button counts what the engine says a retrain would use: 3 normals, 2 anomalies
      const feedback = (await runsGet(runId)).feedback!;
      expect(feedback).toMatchObject({ normal: 3, anomaly: 2 });
      expect(feedback.fromRuns).toContain(runId);
      expect(await retrain.getAttribute('data-count')).toBe('5');
      expect(await retrain.textContent()).toContain('Retrain with feedback (5)');
      await retrain.click();
      await byTest('retrain-progress').waitFor({ state: 'visible', timeout: 60_000 });
      await expect
        .poll(() => attrNum('retrain-progress', 'data-done'), { timeout: 300_000 })
        .toBeGreaterThan(0);
      await shot('12-retraining');
      await expect
        .poll(async () => Number(await byTest('run-view').getAttribute('data-run-id')), { timeout: 600_000 })
        .not.toBe(runId);
      retrainedId = Number(await byTest('run-view').getAttribute('data-run-id'));
      await byTest('retrain-panel').waitFor({ state: 'visible', timeout: 60_000 });
      const c = (await runsGet(retrainedId)).retrain!;
      expect(c.fromRunId).toBe(runId);
      expect([c.normals, c.anomalies]).toEqual([3, 2]);
      const rows = await byTest('retrain-row').evaluateAll((trs) =>
        trs.map((tr) => ({
          key: tr.getAttribute('data-key'),
          before: tr.getAttribute('data-before'),
          after: tr.getAttribute('data-after'),
        })),
      );
      const side = (v: number | null | undefined) => (v === null || v === undefined ? '' : String(v));
      expect(rows.find((r) => r.key === 'flagged')).toEqual({
        key: 'flagged',
        before: String(c.before.flagged),
        after: String(c.after.flagged),
      });
      expect(rows.find((r) => r.key === 'auroc')).toEqual({
        key: 'auroc',
        before: side(c.before.auroc),
        after: side(c.after.auroc),
      });
      for (const g of Object.keys(c.after.perGroup))
        expect(
          rows.find((r) => r.key === `group:${g}`),
          g,
        ).toEqual({
          key: `group:${g}`,
          before: side(c.before.perGroup[g]),
          after: side(c.after.perGroup[g]),
        });
      // the marked images that crossed the threshold, with their scores before and after
      const crossed = c.moved.filter((m) => m.flaggedBefore !== m.flaggedAfter);
      const shown = await byTest('moved-tile').evaluateAll((els) =>
        els.map((e) => ({
          itemId: Number(e.getAttribute('data-item-id')),
          before: Number(e.getAttribute('data-before')),
          after: Number(e.getAttribute('data-after')),
        })),
      );
      expect(shown.map((m) => m.itemId).sort()).toEqual(crossed.map((m) => m.itemId).sort());
      for (const m of crossed)
        expect(shown.find((x) => x.itemId === m.itemId)).toEqual({
          itemId: m.itemId,
          before: m.before,
          after: m.after,
        });
      expect(await byTest('stayed-tile').count()).toBe(c.moved.length - crossed.length);
      await shot('13-retrained');
    }, 900_000);

    it('the prototypes strip shows samples of the flow by their nearest images', async () => {
      const strip = byTest('prototypes');
      await expect.poll(() => strip.getAttribute('data-state'), { timeout: 120_000 }).toBe('ready');
      const expected = await page.evaluate(
        (id) =>
          (window as unknown as { cfstudioBridge: CfStudioBridge }).cfstudioBridge.runsPrototypes({
            runId: id,
            count: 8,
          }),
        retrainedId,
      );
      expect(await byTest('prototype').count()).toBe(8);
      const neighbours = await byTest('prototype-neighbor').evaluateAll((els) =>
        els.map((e) => ({
          itemId: Number(e.getAttribute('data-item-id')),
          role: e.getAttribute('data-role'),
        })),
      );
      expect(neighbours).toEqual(
        expected.prototypes.flatMap((p) => p.nearest.map((n) => ({ itemId: n.itemId, role: n.role }))),
      );
      const note = byTest('prototypes-note');
      expect(Number(await note.getAttribute('data-share'))).toBe(expected.nearestInlierShare);
      expect(await note.textContent()).toMatch(/nearest image is an inlier for [\d.]+ % \(chance [\d.]+ %\)/);
      await strip.scrollIntoViewIfNeeded();
      await expect
        .poll(
          () =>
            byTest('prototype-neighbor')
              .first()
              .locator('img')
              .evaluate((img) => (img as HTMLImageElement).naturalWidth),
          SLOW,
        )
        .toBeGreaterThan(0);
      await shot('14-prototypes');
    }, 300_000);

    it('runs list and comparison show the runs, with AUPR beside AUROC', async () => {
      await byTest('nav-runs').click();
      await expect.poll(() => byTest('run-row').count(), SLOW).toBeGreaterThanOrEqual(3);
      await shot('09-runs');
      // the AUPR column shows runs:list's aupr, formatted like the AUROC
      const listed = await runsList();
      for (const id of [runId, retrainedId]) {
        const aupr = listed.find((r) => r.id === id)!.aupr;
        const cell = page.locator(`[data-testid="run-row"][data-run-id="${id}"] [data-testid="run-aupr"]`);
        expect(await cell.getAttribute('data-value')).toBe(aupr === null ? '' : String(aupr));
        expect(((await cell.textContent()) ?? '').trim()).toBe(formatAuroc(aupr));
      }
      for (const id of [runId, retrainedId])
        await page
          .locator(`[data-testid="run-row"][data-run-id="${id}"] [data-testid="compare-select"]`)
          .check();
      await byTest('nav-compare').click();
      const aupr = byTest('compare-aupr').locator('td');
      await expect
        .poll(() => aupr.evaluateAll((tds) => tds.every((td) => td.getAttribute('data-value'))), SLOW)
        .toBe(true);
      const values = await aupr.evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-value'))));
      expect(values).toEqual([
        (await runsGet(runId)).decision!.aupr,
        (await runsGet(retrainedId)).decision!.aupr,
      ]);
      await shot('10-compare');
      expect(consoleErrors.filter((e) => !/^console: Failed to load resource/.test(e))).toEqual([]);
    }, 120_000);
  },
);
