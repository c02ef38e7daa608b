/**
 * The main-process side of the IPC contract (src/shared/ipc.ts): an adapter over the
 * application layer (engine/studio). Each handler validates its arguments (zod, schemas.ts),
 * checks that paths were picked or dropped by the user (grants.ts), calls one use case, and
 * returns its IPC view (views.ts). Long use cases run as jobs (jobs.ts) with progress events.
 *
 * Electron-free: the desktop app (ipc/index.ts), the browser preview and the tests use it as is.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AppInfo, IpcInvokeArgs, IpcInvokeChannel, IpcInvokeResult, JobEvent } from '../../shared/ipc';
import {
  addImageDataset,
  checkTrainRequest,
  datasetDetail,
  datasetItems,
  extractorById,
  flowTrainingBackend,
  getRun,
  itemThumbnail,
  listDatasets,
  listExtractors,
  listRuns,
  METHOD_INFO,
  openWorkspace,
  providerReport,
  registerExtractor,
  removeDataset,
  retrainInWorker,
  RunViewsClient,
  scoreWithRunInWorker,
  selectionOf,
  extractorInfo,
  trainDetectorInWorker,
  type StudioProgress,
  type Workspace,
} from '../engine/studio';
import { UserError } from '../engine/util/errors';
import { appVersion } from '../engine/util/version';
import { PathGrants } from './grants';
import { JobRegistry, type JobContext } from './jobs';
import { ARG_SCHEMAS } from './schemas';
import {
  datasetDetailView,
  datasetView,
  extractorView,
  methodView,
  runDetailView,
  runSummaryView,
} from './views';

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
  /** the training backend the engine will use, and why (default: asked of the engine once) */
  trainBackend?: () => Promise<AppInfo['trainBackend']>;
}

type Handler<C extends IpcInvokeChannel> = (
  ...args: IpcInvokeArgs<C>
) => Promise<IpcInvokeResult<C>> | IpcInvokeResult<C>;
type HandlerTable = { [C in IpcInvokeChannel]: Handler<C> };

/** A use case's extraction and training progress as job events. */
function reportProgress(ctx: JobContext, p: StudioProgress, backend?: string): void {
  if (p.kind === 'run') {
    ctx.run(p.runId);
    return;
  }
  if (p.kind === 'extract') {
    ctx.progress({
      phase: `extract ${p.selection}`,
      done: p.p.done,
      total: p.p.total,
      rate: p.p.imagesPerSec,
      etaSeconds: Number.isFinite(p.p.etaSeconds) ? p.p.etaSeconds : null,
    });
    return;
  }
  const t = p.p;
  const contrastNll = Number.isFinite(t.contrastNll) ? t.contrastNll : null;
  ctx.progress({
    phase: `train ${t.phase}`,
    done: t.step,
    total: t.totalSteps,
    rate: t.stepsPerSec,
    etaSeconds: Number.isFinite(t.etaSeconds) ? t.etaSeconds : null,
    inlierNll: t.inlierNll,
    contrastNll,
    heldOutNll: t.heldOutNll,
    contrastAboveEps: contrastNll === null ? null : t.contrastAboveEps,
    backend,
  });
  ctx.loss({
    step: t.step,
    inlierNll: t.inlierNll,
    contrastNll,
    contrastAboveEps: contrastNll === null ? null : t.contrastAboveEps,
  });
}

function deviceView(): AppInfo['device'] {
  const r = providerReport();
  return { selected: r.device, tryOrder: r.tryOrder, providers: r.providers };
}

export class StudioHandlers {
  readonly ws: Workspace;
  readonly grants = new PathGrants();
  readonly jobs: JobRegistry;
  private readonly views: RunViewsClient;
  private readonly table: HandlerTable;

  constructor(private readonly o: HandlerOptions) {
    this.ws = openWorkspace(o.workspaceFile);
    this.jobs = new JobRegistry(o.emit);
    this.views = new RunViewsClient(o.workspaceFile);
    // dataset roots of the workspace were picked by the user earlier
    for (const d of listDatasets(this.ws)) this.grants.grantRead(d.root);
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

  /** A JPEG thumbnail of a workspace item (refused for files outside its dataset's folder). */
  thumbnail(itemId: number, size: number): Promise<Buffer> {
    return itemThumbnail(this.ws, itemId, size);
  }

  async close(): Promise<void> {
    await this.jobs.cancelAll();
    await this.views.close();
    this.ws.close();
  }

  private buildTable(): HandlerTable {
    const ws = this.ws;
    const o = this.o;
    const trainBackend = o.trainBackend ?? flowTrainingBackend;
    return {
      'app:info': async () => ({
        version: appVersion(),
        platform: process.platform,
        versions: o.versions,
        workspace: ws.file,
        shell: o.shell,
        trainBackend: await trainBackend(),
        device: deviceView(),
      }),
      'app:setDevice': ({ device }) => {
        // worker threads started from now on inherit it (extraction, training, scoring jobs)
        process.env.CFSTUDIO_DEVICE = device;
        return deviceView();
      },
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
      'datasets:list': () => listDatasets(ws).map(datasetView),
      'datasets:get': ({ id }) => datasetDetailView(datasetDetail(ws, id)),
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
            dataset: datasetDetailView(
              datasetDetail(
                ws,
                r.dataset.id,
                r.problems.map((p) => ({ relPath: p.relPath, reason: p.reason })),
              ),
            ),
          };
        });
      },
      'datasets:items': ({ id, offset, limit, label }) => datasetItems(ws, id, { offset, limit, label }),
      'datasets:remove': async ({ id }) => {
        removeDataset(ws, id);
        // the runs' ranked lists lose this dataset's items
        await this.views.invalidate();
      },
      'extractors:list': () => listExtractors(ws).map(extractorView),
      'extractors:import': async ({ path: file, name, spec }) => {
        const real = this.grants.checkRead(file, 'import an extractor');
        return extractorView(extractorInfo((await registerExtractor(ws, real, { name, spec })).extractor));
      },
      'methods:list': () => METHOD_INFO.map(methodView),
      'runs:train': (req) => {
        const request = {
          name: req.name,
          method: req.method,
          inliers: selectionOf(ws, req.inliers, 'inliers'),
          contrast: req.contrast === null ? null : selectionOf(ws, req.contrast, 'contrast'),
          test: req.test
            ? {
                selection: selectionOf(ws, { datasetId: req.test.datasetId, labels: null }, 'test'),
                inlierLabels: req.test.inlierLabels,
              }
            : null,
          extractor: extractorById(ws, req.extractorId),
          options: { steps: req.steps, eps: req.eps, hidden: req.hidden, blocks: req.blocks, seed: req.seed },
        };
        // a request that breaks a rule is refused now, not as a failed job
        checkTrainRequest(request);
        return this.jobs.start('train', async (ctx) => {
          const backend = (await trainBackend())?.name;
          const r = await trainDetectorInWorker(ws.file, request, {
            signal: ctx.signal,
            onProgress: (p) => reportProgress(ctx, p, backend),
          });
          return { kind: 'train', runId: r.runId };
        });
      },
      'runs:score': ({ runId, datasetId }) => {
        const sel = selectionOf(ws, { datasetId, labels: null }, 'score');
        getRun(ws, runId);
        return this.jobs.start('score', async (ctx) => {
          const r = await scoreWithRunInWorker(ws.file, runId, sel, {
            signal: ctx.signal,
            onProgress: (p) => reportProgress(ctx, p),
          });
          return { kind: 'score', runId: r.runId };
        });
      },
      'runs:list': () => listRuns(ws).map(runSummaryView),
      // the run views are built in a worker thread (ranked lists, histograms, neighbours)
      'runs:get': async ({ id }) => runDetailView(await this.views.runDetail(id)),
      'runs:scores': ({ id, offset, limit, group }) => this.views.scorePage(id, { offset, limit, group }),
      'runs:item': ({ runId, itemId, neighbors }) => this.views.itemDetail(runId, itemId, neighbors),
      'runs:setThreshold': ({ runId, targetFpr }) => this.views.setThreshold(runId, targetFpr),
      'runs:remove': ({ id }) => this.views.removeRun(id),
      'runs:mark': ({ runId, itemIds, mark }) => this.views.markItems(runId, itemIds, mark),
      'runs:prototypes': ({ runId, count }) => this.views.prototypes(runId, count),
      'runs:retrain': ({ runId, anomalyShare }) => {
        getRun(ws, runId);
        return this.jobs.start('train', async (ctx) => {
          const r = await retrainInWorker(
            ws.file,
            { runId, anomalyShare },
            { signal: ctx.signal, onProgress: (p) => reportProgress(ctx, p) },
          );
          return { kind: 'train', runId: r.runId };
        });
      },
      'runs:export': ({ runId, format, path: out }) => {
        const file = this.grants.checkWrite(out, 'export');
        getRun(ws, runId);
        return this.jobs.start('export', async (ctx) => {
          ctx.progress({ phase: `export ${format}`, done: 0, total: 1, rate: 0, etaSeconds: null });
          const r = await this.views.exportRun(runId, format, file);
          return { kind: 'export', path: r.path, bytes: r.bytes };
        });
      },
      'jobs:cancel': ({ jobId }) => this.jobs.cancel(jobId),
    };
  }
}
