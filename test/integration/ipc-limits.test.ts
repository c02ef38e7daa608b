/**
 * The IPC surface under hostile input (src/main/ipc/schemas.ts, jobs.ts, grants.ts), through the
 * real handlers on a real workspace:
 * - property tests (fast-check): random arguments, and valid calls with one field replaced by
 *   anything, never crash the validator nor reach a handler as an internal error; oversized
 *   arguments (long strings, long lists, deep nesting) on every channel are refused quickly;
 * - the probe: a 5M-element `mean` or `test.inlierLabels` is refused in well under 100 ms;
 * - at most MAX_RUNNING_JOBS jobs run at once, the next is refused with a clear message;
 * - a save path picked in a dialog may be written once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/main/engine/util/errors';
import { StudioHandlers } from '../../src/main/ipc/handlers';
import { JobRegistry, MAX_RUNNING_JOBS, toApiError } from '../../src/main/ipc/jobs';
import { ARG_LIMITS, ARG_SCHEMAS } from '../../src/main/ipc/schemas';
import type { IpcInvokeChannel, JobEvent } from '../../src/shared/ipc';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-ipc-limits-'));
const channels = Object.keys(ARG_SCHEMAS) as IpcInvokeChannel[];

/** A valid call per channel (channels added later are fuzzed with random arguments only). */
const EXAMPLES: Partial<Record<IpcInvokeChannel, unknown[]>> = {
  'app:info': [],
  'dialog:pickFolder': [{ title: 'Inliers' }],
  'dialog:pickFile': [{ title: 'Model', extensions: ['onnx'] }],
  'dialog:pickSavePath': [{ title: 'Save', defaultName: 'x.cfdet' }],
  'datasets:list': [],
  'datasets:get': [{ id: 1 }],
  'datasets:add': [{ path: '/tmp/photos', name: 'photos' }],
  'datasets:items': [{ id: 1, offset: 0, limit: 10, label: null }],
  'datasets:remove': [{ id: 99 }],
  'extractors:list': [],
  'extractors:import': [
    {
      path: '/tmp/m.onnx',
      spec: {
        inputName: 'x',
        outputName: 'y',
        width: 32,
        height: 32,
        layout: 'NCHW',
        channelOrder: 'RGB',
        scale: 1 / 255,
        mean: [0.5, 0.5, 0.5],
        std: [0.25],
        resize: 'squash',
        l2Normalize: true,
      },
    },
  ],
  'methods:list': [],
  'runs:train': [
    {
      method: 'cf',
      inliers: { datasetId: 1, labels: ['deer'] },
      contrast: { datasetId: 2, labels: null },
      test: { datasetId: 3, inlierLabels: ['deer'] },
      extractorId: 1,
      steps: 10,
      eps: 0,
      hidden: 8,
      blocks: 1,
      seed: 0,
    },
  ],
  'runs:score': [{ runId: 1, datasetId: 1 }],
  'runs:list': [],
  'runs:get': [{ id: 1 }],
  'runs:scores': [{ id: 1, offset: 0, limit: 10, group: null }],
  'runs:item': [{ runId: 1, itemId: 1, neighbors: 3 }],
  'runs:setThreshold': [{ runId: 1, targetFpr: 0.05 }],
  'runs:remove': [{ id: 99 }],
  'runs:export': [{ runId: 1, format: 'csv', path: '/tmp/x.csv' }],
  'jobs:cancel': [{ jobId: 'abc-123' }],
};

/** Everything structured clone or JSON can carry, and more. */
const anything = fc.anything({
  maxDepth: 4,
  maxKeys: 6,
  withNullPrototype: true,
  withSparseArray: true,
  withTypedArray: true,
  withMap: true,
  withSet: true,
  withDate: true,
  withBigInt: true,
  withBoxedValues: true,
  withObjectString: true,
});

/** Paths to every value inside `v` (object keys and array indexes). */
function pathsOf(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out = [prefix];
  if (v && typeof v === 'object')
    for (const [k, child] of Object.entries(v))
      out.push(...pathsOf(child, [...prefix, Array.isArray(v) ? Number(k) : k]));
  return out;
}

/** A deep copy of `v` with the value at `at` replaced (the tuple itself when `at` is empty). */
function replaced(v: unknown, at: (string | number)[], value: unknown): unknown {
  if (at.length === 0) return value;
  const copy = structuredClone(v) as Record<string | number, unknown>;
  let cur = copy;
  for (const k of at.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  cur[at[at.length - 1]] = value;
  return copy;
}

/** A call to `channel`: random, or its example with one value replaced by `values`. */
function callsOf(channel: IpcInvokeChannel, values: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  const example = EXAMPLES[channel];
  const random = fc.array(values, { minLength: 1, maxLength: 3 });
  if (!example) return random;
  return fc.oneof(
    random,
    fc.tuple(fc.constantFrom(...pathsOf(example)), values).map(([at, value]) => replaced(example, at, value)),
  );
}

const huge = {
  list: new Array(5_000_000).fill(0.5),
  text: 'x'.repeat(20_000_000),
};
/** Values over ARG_LIMITS: long lists and texts (up to the 5M), deep nesting. */
const oversized: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(new Array(ARG_LIMITS.array + 1).fill('a'), new Array(100_000).fill({}), huge.list),
  fc.integer({ min: ARG_LIMITS.string + 1, max: 20_000_000 }).map((n) => huge.text.slice(0, n)),
  fc.integer({ min: ARG_LIMITS.depth + 1, max: 50 }).map((d) => {
    let v: unknown = 1;
    for (let i = 0; i < d; i++) v = [v];
    return v;
  }),
);

describe('IPC argument limits', () => {
  let handlers: StudioHandlers;
  beforeAll(() => {
    const none = async () => null;
    handlers = new StudioHandlers({
      workspaceFile: path.join(dir, 'ws.cfstudio'),
      shell: 'preview',
      versions: { electron: 'none', chrome: 'none', node: process.versions.node, v8: process.versions.v8 },
      dialogs: { pickFolder: none, pickFile: none, pickSavePath: none },
      emit: () => {},
      trainBackend: async () => null,
    });
  });
  afterAll(async () => {
    await handlers.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('every channel’s example is valid (the fuzzing starts from real calls)', () => {
    for (const [channel, args] of Object.entries(EXAMPLES))
      expect(ARG_SCHEMAS[channel as IpcInvokeChannel].safeParse(args).success, channel).toBe(true);
  });

  it('random arguments never crash the validator, and no handler sees them as a bug', async () => {
    for (const channel of channels)
      await fc.assert(
        fc.asyncProperty(callsOf(channel, anything), async (args) => {
          // the validator answers for anything, even values IPC could not carry
          expect(() => ARG_SCHEMAS[channel].safeParse(args)).not.toThrow();
          // through the real handlers, as Electron's IPC carries it (a structured clone): a
          // result or a user error, never an internal error
          const outcome = await handlers.invoke(channel, structuredClone(args) as unknown[]).then(
            () => null,
            (e: unknown) => e,
          );
          if (outcome !== null)
            expect(toApiError(outcome), `${channel} ${String(outcome)}`).toMatchObject({ kind: 'user' });
        }),
        { numRuns: 60 },
      );
  }, 120_000);

  it('oversized arguments on every channel are refused before any schema, in milliseconds', () => {
    for (const channel of channels)
      fc.assert(
        fc.property(callsOf(channel, oversized), (args) => {
          const t0 = performance.now();
          const r = ARG_SCHEMAS[channel].safeParse(args);
          const ms = performance.now() - t0;
          expect(r.success).toBe(false);
          expect(ms).toBeLessThan(20);
        }),
        { numRuns: 15 },
      );
  });

  it('the issue’s probe: 5M-element mean and inlierLabels are refused in well under 100 ms', async () => {
    const spec = (EXAMPLES['extractors:import']![0] as { spec: object }).spec;
    const train = EXAMPLES['runs:train']![0] as object;
    for (const [channel, args] of [
      ['extractors:import', [{ path: '/tmp/m.onnx', spec: { ...spec, mean: huge.list } }]],
      ['runs:train', [{ ...train, test: { datasetId: 3, inlierLabels: new Array(5_000_000).fill('a') } }]],
      ['extractors:import', [{ path: '/tmp/m.onnx', spec: { ...spec, inputName: huge.text } }]],
    ] as const) {
      const t0 = performance.now();
      const e = await handlers.invoke(channel, args as unknown as unknown[]).catch((x: unknown) => x);
      const ms = performance.now() - t0;
      expect(e).toBeInstanceOf(UserError);
      expect((e as Error).message).toMatch(
        /invalid arguments \(.*too large: (a list of more than 10000 items|a text longer than 4096 characters)\)/,
      );
      expect(ms).toBeLessThan(50);
    }
  });

  it('per-field limits: mean/std take 1 or 3 finite numbers; names, labels and spec strings are bounded', () => {
    const spec = (EXAMPLES['extractors:import']![0] as { spec: Record<string, unknown> }).spec;
    const importWith = (patch: Record<string, unknown>) =>
      ARG_SCHEMAS['extractors:import'].safeParse([{ path: '/m.onnx', spec: { ...spec, ...patch } }]);
    expect(importWith({ mean: [1] })).toMatchObject({ success: true, data: [{ spec: { mean: [1, 1, 1] } }] });
    for (const bad of [[], [1, 2], [1, 2, 3, 4], [NaN, 0, 0], [Infinity]])
      expect(importWith({ mean: bad }).success, JSON.stringify(bad)).toBe(false);
    expect(importWith({ inputName: 'x'.repeat(257) }).success).toBe(false);
    expect(importWith({ layout: 'NCWH' }).success).toBe(false);
    expect(importWith({ width: 100_000 }).success).toBe(false);
    const train = EXAMPLES['runs:train']![0] as Record<string, unknown>;
    const trainWith = (patch: Record<string, unknown>) =>
      ARG_SCHEMAS['runs:train'].safeParse([{ ...train, ...patch }]);
    expect(trainWith({ name: 'n'.repeat(201) }).success).toBe(false);
    expect(trainWith({ test: { datasetId: 3, inlierLabels: new Array(10_001).fill('a') } }).success).toBe(
      false,
    );
    expect(trainWith({ inliers: { datasetId: 1, labels: ['l'.repeat(501)] } }).success).toBe(false);
  });

  it('runs:train: steps, hidden, blocks and ε may be left out (the inlier-count rule), and are bounded when given', () => {
    const { steps, hidden, blocks, eps, ...unsized } = EXAMPLES['runs:train']![0] as Record<string, unknown>;
    expect([steps, hidden, blocks, eps]).toEqual([10, 8, 1, 0]);
    const train = (req: Record<string, unknown>) => ARG_SCHEMAS['runs:train'].safeParse([req]);
    const parsed = train(unsized);
    expect(parsed.success).toBe(true);
    for (const key of ['steps', 'hidden', 'blocks', 'eps']) expect(parsed.data![0]).not.toHaveProperty(key);
    // each on its own
    for (const given of [{ steps: 1 }, { hidden: 4 }, { blocks: 64 }, { eps: 'auto' }, { eps: -3.5 }])
      expect(train({ ...unsized, ...given }), JSON.stringify(given)).toMatchObject({
        success: true,
        data: [given],
      });
    // out of range, not whole, or not a number
    for (const bad of [
      { steps: 0 },
      { steps: 1_000_001 },
      { steps: 2.5 },
      { hidden: 3 },
      { hidden: 4097 },
      { blocks: 0 },
      { blocks: 65 },
      { eps: 'tracking' },
      { eps: Infinity },
      { eps: NaN },
      { steps: null },
      { hidden: '128' },
    ])
      expect(train({ ...unsized, ...bad }).success, JSON.stringify(bad)).toBe(false);
  });
});

describe('jobs and write grants', () => {
  it(`at most ${MAX_RUNNING_JOBS} jobs run at once; one more is refused, and accepted once one ends`, async () => {
    const events: JobEvent[] = [];
    const jobs = new JobRegistry((e) => events.push(e));
    const release: (() => void)[] = [];
    const job = () =>
      jobs.start(
        'export',
        () => new Promise((r) => release.push(() => r({ kind: 'export', path: '/x', bytes: 0 }))),
      );
    const ids = Array.from({ length: MAX_RUNNING_JOBS }, job);
    expect(new Set(ids.map((j) => j.jobId)).size).toBe(MAX_RUNNING_JOBS);
    expect(job).toThrow(UserError);
    expect(job).toThrow(/4 jobs are running already/);
    await new Promise((r) => setImmediate(r));
    release.shift()!();
    await expect.poll(() => events.filter((e) => e.type === 'done').length).toBe(1);
    expect(job().jobId).toMatch(/^[a-f0-9-]{36}$/);
    await new Promise((r) => setImmediate(r));
    for (const r of release.splice(0)) r();
    await jobs.cancelAll();
  });

  it('a save path picked in a dialog may be written once', async () => {
    const target = path.join(dir, 'picked.csv');
    const answers = [target, target];
    const h = new StudioHandlers({
      workspaceFile: path.join(dir, 'grants.cfstudio'),
      shell: 'preview',
      versions: { electron: 'none', chrome: 'none', node: process.versions.node, v8: process.versions.v8 },
      dialogs: {
        pickFolder: async () => null,
        pickFile: async () => null,
        pickSavePath: async () => answers.shift()!,
      },
      emit: () => {},
    });
    try {
      const exportTo = () =>
        h.invoke('runs:export', [{ runId: 7, format: 'csv', path: target }]).then(
          () => new Error('expected a refusal'),
          (e: unknown) => e as Error,
        );
      expect((await exportTo()).message).toMatch(/only write where you chose/);
      expect(await h.invoke('dialog:pickSavePath', [{ title: 'Save', defaultName: 'picked.csv' }])).toBe(
        target,
      );
      // the grant holds: the call gets past it (and stops at the run, which does not exist)
      expect((await exportTo()).message).toMatch(/run 7/);
      // used up: the same path again needs a new dialog
      expect((await exportTo()).message).toMatch(/only write where you chose/);
      await h.invoke('dialog:pickSavePath', [{ title: 'Save', defaultName: 'picked.csv' }]);
      expect((await exportTo()).message).toMatch(/run 7/);
    } finally {
      await h.close();
    }
  });
});
