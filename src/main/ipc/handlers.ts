/**
 * The main-process side of every IPC call, without Electron: validate the arguments
 * (schemas.ts), check paths against what the user picked (grants.ts), call the engine, return
 * plain data. Electron (./index.ts) and the browser preview (src/main/preview) both route calls
 * here, so the preview and the UI tests exercise the real handlers.
 */
import fs from 'node:fs';
import path from 'node:path';
import type {
  AppInfo,
  DatasetDetail,
  DatasetInfo,
  ExtractorInfo,
  IpcInvokeArgs,
  IpcInvokeChannel,
  IpcInvokeResult,
  JobEvent,
  MethodInfo,
} from '../../shared/ipc';
import { decodeThumbnail } from '../engine/data/images';
import {
  CONTRAST_METHODS,
  FLOW_METHODS,
  METHOD_LABELS,
  METHODS,
  type Method,
} from '../engine/detector/methods';
import { detectorOfRun } from '../engine/studio/importDetector';
import { exportDetectorOnnx } from '../engine/export/exportDetector';
import type { Detector } from '../engine/detector/types';
import { Workspace, type DatasetSummary, type ExtractorRow } from '../engine/store';
import { addImageDataset } from '../engine/studio/datasets';
import { trainDetectorRun, scoreDatasetRun, type DetectorRunProgress } from '../engine/studio/detectorRuns';
import { extractorSpec, registerExtractor } from '../engine/studio/extractors';
import { RunViews, isScoreRun } from '../engine/studio/runViews';
import type { Selection } from '../engine/studio/selection';
import { UserError } from '../engine/util/errors';
import { appVersion } from '../engine/util/version';
import { writeFileAtomic } from '../engine/util/writeFileAtomic';
import { PathGrants } from './grants';
import { JobRegistry, type JobContext } from './jobs';
import { ARG_SCHEMAS } from './schemas';

export interface Dialogs {
  pickFolder(o: { title: string }): Promise<string | null>;
  pickFile(o: { title: string; extensions: string[] }): Promise<string | null>;
  pickSavePath(o: { title: string; defaultName: string }): Promise<string | null>;
}

export interface HandlerOptions {
  workspaceFile: string;
  shell: AppInfo['shell'];
  versions: AppInfo['versions'];
  dialogs: Dialogs;
  emit(e: JobEvent): void;
  /** the training backend the engine will use, and why (computed lazily by the caller) */
  trainBackend?: () => Promise<AppInfo['trainBackend']>;
}

type Handler<C extends IpcInvokeChannel> = (
  ...args: IpcInvokeArgs<C>
) => Promise<IpcInvokeResult<C>> | IpcInvokeResult<C>;
type HandlerTable = { [C in IpcInvokeChannel]: Handler<C> };

const THUMB_SIZES = [64, 96, 128, 192, 256, 384, 512];

function extractorInfo(e: ExtractorRow): ExtractorInfo {
  return {
    id: e.id,
    name: e.name,
    path: e.path,
    sha256: e.fileHash,
    spec: extractorSpec(e),
    available: fs.existsSync(e.path),
  };
}

export class StudioHandlers {
  readonly ws: Workspace;
  readonly grants = new PathGrants();
  readonly jobs: JobRegistry;
  readonly views: RunViews;
  private readonly table: HandlerTable;

  constructor(private readonly o: HandlerOptions) {
    this.ws = Workspace.open(o.workspaceFile);
    this.views = new RunViews(this.ws);
    this.jobs = new JobRegistry(o.emit);
    // dataset roots of the workspace were picked by the user earlier
    for (const d of this.ws.datasets.list()) this.grants.grantRead(d.root);
    this.table = this.buildTable();
  }

  /** Validates `args` for `channel` and runs its handler. Throws UserError for bad input. */
  async invoke(channel: string, args: unknown[]): Promise<unknown> {
    if (!Object.hasOwn(ARG_SCHEMAS, channel))
      throw new UserError(`unknown IPC channel "${String(channel).slice(0, 80)}"`);
    const c = channel as IpcInvokeChannel;
    const parsed = ARG_SCHEMAS[c].safeParse(args);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new UserError(
        `${c}: invalid arguments (${issue.path.join('.') || 'arguments'}: ${issue.message})`,
      );
    }
    const fn = this.table[c] as (...a: unknown[]) => unknown;
    return await fn(...parsed.data);
  }

  /** A JPEG thumbnail of a workspace item, refusing anything that is not inside its dataset's root. */
  async thumbnail(itemId: number, size: number): Promise<Buffer> {
    if (!Number.isInteger(itemId) || itemId < 1) throw new UserError(`thumbnail: bad item id ${itemId}`);
    const s = THUMB_SIZES.find((t) => t >= size) ?? THUMB_SIZES[THUMB_SIZES.length - 1];
    const item = this.ws.items.get(itemId);
    const ds = item && this.ws.datasets.get(item.datasetId);
    if (!item || !ds) throw new UserError(`thumbnail: item ${itemId} is not in the workspace`);
    const root = fs.realpathSync(ds.root);
    const file = fs.realpathSync(path.join(root, item.relPath));
    if (file !== root && !file.startsWith(root + path.sep))
      throw new UserError(`thumbnail: ${item.relPath} resolves outside its dataset folder`);
    return decodeThumbnail(file, s);
  }

  async close(): Promise<void> {
    await this.jobs.cancelAll();
    this.ws.close();
  }

  private datasetInfo(d: DatasetSummary): DatasetInfo {
    return {
      id: d.id,
      name: d.name,
      kind: d.kind,
      root: d.root,
      created: d.created,
      ok: d.ok,
      skipped: d.unreadable,
      // readable images only: what a run can use
      labels: this.ws.items.labels(d.id, { status: 'ok' }),
    };
  }

  private datasetDetail(id: number, extra: { relPath: string; reason: string }[] = []): DatasetDetail {
    const d = this.ws.datasets.list().find((x) => x.id === id);
    if (!d) throw new UserError(`dataset ${id} does not exist`, 'it may have been removed; pick another one');
    const items = this.ws.items.list(id);
    const hashes = items.filter((i) => i.status === 'ok' && i.contentHash).map((i) => i.contentHash!);
    const featureCounts: Record<number, number> = {};
    for (const e of this.ws.extractors.list())
      featureCounts[e.id] = hashes.length - this.ws.features.missing(e.id, hashes).length;
    return {
      ...this.datasetInfo(d),
      skippedFiles: [
        ...items
          .filter((i) => i.status !== 'ok')
          .map((i) => ({ relPath: i.relPath, reason: i.reason ?? 'unreadable' })),
        ...extra,
      ],
      featureCounts,
    };
  }

  private selection(s: { datasetId: number; labels: string[] | null }, what: string): Selection {
    const d = this.ws.datasets.get(s.datasetId);
    if (!d)
      throw new UserError(`${what}: dataset ${s.datasetId} does not exist`, 'pick a dataset from the list');
    if (s.labels) {
      const known = new Set(this.ws.items.labels(d.id).map((l) => l.label));
      const bad = s.labels.filter((l) => !known.has(l));
      if (bad.length)
        throw new UserError(
          `${what}: dataset "${d.name}" has no label ${bad.map((b) => `"${b}"`).join(', ')}`,
        );
    }
    return { datasetId: d.id, datasetName: d.name, labels: s.labels && s.labels.length ? s.labels : null };
  }

  private extractor(id: number): ExtractorRow {
    const e = this.ws.extractors.get(id);
    if (!e)
      throw new UserError(
        `extractor ${id} does not exist`,
        'pick one from the list or import an .onnx model',
      );
    if (!fs.existsSync(e.path))
      throw new UserError(
        `the model file of extractor "${e.name}" is gone: ${e.path}`,
        'import the .onnx file again from its new place',
      );
    return e;
  }

  private reportRunProgress(ctx: JobContext, p: DetectorRunProgress, backend?: string): void {
    if (p.kind === 'extract') {
      ctx.progress({
        phase: `extract ${p.name}`,
        done: p.p.done,
        total: p.p.total,
        rate: p.p.imagesPerSec,
        etaSeconds: Number.isFinite(p.p.etaSeconds) ? p.p.etaSeconds : null,
      });
      return;
    }
    const t = p.p;
    ctx.progress({
      phase: `train ${t.phase}`,
      done: t.step,
      total: t.totalSteps,
      rate: t.stepsPerSec,
      etaSeconds: Number.isFinite(t.etaSeconds) ? t.etaSeconds : null,
      inlierNll: t.inlierNll,
      contrastNll: Number.isFinite(t.contrastNll) ? t.contrastNll : null,
      heldOutNll: t.heldOutNll,
      backend,
    });
    ctx.loss({
      step: t.step,
      inlierNll: t.inlierNll,
      contrastNll: Number.isFinite(t.contrastNll) ? t.contrastNll : null,
    });
  }

  private buildTable(): HandlerTable {
    const ws = this.ws;
    const o = this.o;
    return {
      'app:info': async () => ({
        version: appVersion(),
        platform: process.platform,
        versions: o.versions,
        workspace: ws.file,
        shell: o.shell,
        trainBackend: o.trainBackend ? await o.trainBackend() : null,
      }),
      'dialog:pickFolder': async (a) => {
        const p = await o.dialogs.pickFolder(a);
        if (p) this.grants.grantRead(p);
        return p;
      },
      'dialog:pickFile': async (a) => {
        const p = await o.dialogs.pickFile(a);
        if (p) this.grants.grantRead(p);
        return p;
      },
      'dialog:pickSavePath': async (a) => {
        const p = await o.dialogs.pickSavePath(a);
        if (p) this.grants.grantWrite(p);
        return p;
      },
      'datasets:list': () => ws.datasets.list().map((d) => this.datasetInfo(d)),
      'datasets:get': ({ id }) => this.datasetDetail(id),
      'datasets:add': ({ path: folder, name }) => {
        const root = this.grants.checkRead(folder, 'add a dataset');
        if (!fs.statSync(root, { throwIfNoEntry: false })?.isDirectory())
          throw new UserError(`add a dataset: ${folder} is not a folder`, 'drop or pick a folder of images');
        return this.jobs.start('scan', async (ctx) => {
          const r = await addImageDataset(ws, root, {
            name,
            signal: ctx.signal,
            onProgress: (p) =>
              ctx.progress({
                phase: `scan ${path.basename(root)}`,
                done: p.checked,
                total: p.found,
                rate: 0,
                etaSeconds: null,
              }),
          });
          return {
            kind: 'scan',
            dataset: this.datasetDetail(
              r.dataset.id,
              r.problems.map((p) => ({ relPath: p.relPath, reason: p.reason })),
            ),
          };
        });
      },
      'datasets:items': ({ id, offset, limit, label }) => {
        if (!ws.datasets.get(id)) throw new UserError(`dataset ${id} does not exist`);
        const items = ws.items.list(id, {
          status: 'ok',
          labels: label === null || label === undefined ? undefined : [label],
        });
        return {
          total: items.length,
          items: items.slice(offset, offset + limit).map((i) => ({
            id: i.id,
            datasetId: i.datasetId,
            relPath: i.relPath,
            label: i.label,
            width: i.width,
            height: i.height,
          })),
        };
      },
      'datasets:remove': ({ id }) => {
        if (!ws.datasets.remove(id)) throw new UserError(`dataset ${id} does not exist`);
      },
      'extractors:list': () => ws.extractors.list().map(extractorInfo),
      'extractors:import': async ({ path: file, name, spec }) => {
        const real = this.grants.checkRead(file, 'import an extractor');
        return extractorInfo((await registerExtractor(ws, real, { name, spec })).extractor);
      },
      'methods:list': () =>
        METHODS.map((m: Method): MethodInfo => ({
          id: m,
          label: METHOD_LABELS[m],
          usesContrast: CONTRAST_METHODS.includes(m),
          flow: FLOW_METHODS.includes(m),
        })),
      'runs:train': (req) => {
        const inliers = this.selection(req.inliers, 'inliers');
        const contrast =
          req.contrast === null || req.contrast === 'permutation'
            ? req.contrast
            : this.selection(req.contrast, 'contrast');
        const test = req.test
          ? {
              selection: this.selection({ datasetId: req.test.datasetId, labels: null }, 'test'),
              inlierLabels: req.test.inlierLabels,
            }
          : null;
        const extractor = this.extractor(req.extractorId);
        if (contrast === 'permutation' && ws.datasets.get(inliers.datasetId)?.kind === 'image')
          throw new UserError(
            'permutation contrast is meant for tables, not images',
            'pick a broad folder of other images as contrast',
          );
        return this.jobs.start('train', async (ctx) => {
          const backend = (await o.trainBackend?.())?.name;
          const runId = await trainDetectorRun(
            ws,
            { ...req, inliers, contrast, test, extractor },
            { signal: ctx.signal, onProgress: (p) => this.reportRunProgress(ctx, p, backend) },
          );
          return { kind: 'train', runId };
        });
      },
      'runs:score': ({ runId, datasetId }) => {
        const sel = this.selection({ datasetId, labels: null }, 'score');
        if (!ws.runs.get(runId)) throw new UserError(`run ${runId} does not exist`);
        return this.jobs.start('score', async (ctx) => {
          const id = await scoreDatasetRun(ws, runId, sel, {
            signal: ctx.signal,
            onProgress: (p) => this.reportRunProgress(ctx, p),
          });
          return { kind: 'score', runId: id };
        });
      },
      'runs:list': () => this.views.list(),
      'runs:get': ({ id }) => this.views.detail(id),
      'runs:scores': ({ id, offset, limit, group }) => this.views.scores(id, offset, limit, group ?? null),
      'runs:item': ({ runId, itemId, neighbors }) => this.views.item(runId, itemId, neighbors),
      'runs:setThreshold': ({ runId, targetFpr }) => this.views.setThreshold(runId, targetFpr),
      'runs:remove': ({ id }) => {
        for (const child of ws.runs.list({ parentRunId: id })) {
          ws.runs.remove(child.id);
          this.views.invalidate(child.id);
        }
        if (!ws.runs.remove(id)) throw new UserError(`run ${id} does not exist`);
        this.views.invalidate(id);
      },
      'runs:export': ({ runId, format, path: out }) => {
        const file = this.grants.checkWrite(out, 'export');
        const run = ws.runs.get(runId);
        if (!run) throw new UserError(`run ${runId} does not exist`);
        return this.jobs.start('export', async (ctx) => {
          ctx.progress({ phase: `export ${format}`, done: 0, total: 1, rate: 0, etaSeconds: null });
          let bytes: Uint8Array;
          if (format === 'csv') bytes = Buffer.from(this.views.csv(runId));
          else {
            const { detector, bytes: cfdet } = detectorOfRun(
              ws,
              isScoreRun(run) && run.parentRunId !== null ? run.parentRunId : runId,
            );
            if (format === 'cfdet') bytes = cfdet;
            else {
              const t = this.views.threshold(runId);
              const withThreshold = {
                ...detector,
                thresholds: [{ value: t.threshold, fpr: t.targetFpr }],
              } as Detector;
              bytes = exportDetectorOnnx(withThreshold, {
                appVersion: appVersion(),
                source: `run ${runId}`,
              }).bytes;
            }
          }
          writeFileAtomic(file, bytes);
          return { kind: 'export', path: file, bytes: bytes.length };
        });
      },
      'jobs:cancel': ({ jobId }) => this.jobs.cancel(jobId),
    };
  }
}
