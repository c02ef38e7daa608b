/**
 * The ONNX export (engine/export):
 * - the IR emitter op by op against the float64 reference executor, in ONNX Runtime;
 * - whole detectors (CF, Flow, Flow-ratio; standardize with a dropped column, L2, none) against
 *   the engine's own scoring, batch sizes 1 and 1000;
 * - metadata round trip, baselines refused, and bad input (foreign / truncated / newer / wrong D).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initTfjs } from '../../src/main/engine/backend/tfjsBackend';
import { defaultDetectorConfig, fitDetector } from '../../src/main/engine/detector/fitDetector';
import type { Method } from '../../src/main/engine/detector/methods';
import type { PreprocessKind } from '../../src/main/engine/detector/preprocess';
import { scoreDetector } from '../../src/main/engine/detector/scoreDetector';
import type { Detector } from '../../src/main/engine/detector/types';
import {
  checkScorerMetadata,
  emitIrGraph,
  exportDetectorOnnx,
  OnnxEmitter,
  OnnxScorer,
  ONNX_SCORER_VERSION,
} from '../../src/main/engine/export';
import { floatValueInfo, type EmitterChoices } from '../../src/main/engine/flow/onnxGraph';
import { readOnnxModelInfo } from '../../src/main/engine/features/onnxMetadata';
import { GraphBuilder, type Graph, type OpName } from '../../src/main/engine/flow/graph';
import { runRefGraph, refTensor, type RefTensor } from '../../src/main/engine/flow/refExecutor';
import { UserError } from '../../src/main/engine/util/errors';
import type { Matrix } from '../../src/main/engine/util/matrix';
import { Rng } from '../../src/main/engine/util/rng';

const { onnx } = onnxProto;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-export-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await initTfjs();
});

const rng = new Rng(7);
const rand = (n: number, scale = 1) => Float64Array.from({ length: n }, () => rng.normal() * scale);

/** Runs an IR graph through the ONNX emitter: every IR input and param becomes an ONNX input. */
async function runOnnx(
  graph: Graph,
  feeds: Record<string, RefTensor>,
  opset = 17,
  choices: EmitterChoices = {},
): Promise<RefTensor> {
  const e = new OnnxEmitter('t/', opset, choices);
  const bind: Record<string, string> = {};
  for (const d of [...graph.inputs, ...graph.params]) bind[d.name] = d.name;
  const outs = emitIrGraph(e, graph, { bind, outputNames: { [graph.outputs[0]]: 'y' } });
  expect(outs[graph.outputs[0]]).toBe('y');
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: opset }],
    graph: onnx.GraphProto.create({
      name: 'op',
      node: e.nodes,
      initializer: e.initializers,
      input: [...graph.inputs, ...graph.params].map((d) =>
        floatValueInfo(
          d.name,
          feeds[d.name].shape.map((s) => s),
        ),
      ),
      // output shape left unknown: ONNX Runtime infers it
      output: [onnx.ValueInfoProto.create({ name: 'y', type: { tensorType: { elemType: 1 } } })],
    }),
  });
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish());
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds))
    ortFeeds[k] = new ort.Tensor('float32', Float32Array.from(v.data), v.shape);
  const r = (await session.run(ortFeeds)).y as ort.Tensor;
  await session.release();
  return { shape: r.dims.map(Number), data: Float64Array.from(r.data as Float32Array) };
}

function expectClose(a: RefTensor, b: RefTensor, tol = 1e-5): void {
  expect(a.shape).toEqual(b.shape);
  let worst = 0;
  for (let i = 0; i < a.data.length; i++)
    worst = Math.max(worst, Math.abs(a.data[i] - b.data[i]) / Math.max(1, Math.abs(b.data[i])));
  expect(worst).toBeLessThan(tol);
}

const N = 5;
const C = 6;
/** One small graph per IR op (float32-representable inputs so both sides see the same values). */
const OP_CASES: Record<OpName, () => { graph: Graph; feeds: Record<string, RefTensor> }> = (() => {
  const f32 = (shape: number[], scale = 1, positive = false) =>
    refTensor(
      shape,
      Float32Array.from(
        rand(
          shape.reduce((a, b) => a * b, 1),
          scale,
        ),
        (v) => (positive ? Math.abs(v) + 0.1 : v),
      ),
    );
  const unaryCase =
    (op: OpName, positive = false, scale = 1) =>
    () => {
      const g = new GraphBuilder();
      const x = g.input('x', ['N', C]);
      return { graph: g.build([g.node(op, [x])]), feeds: { x: f32([N, C], scale, positive) } };
    };
  const withAttrs =
    (op: OpName, attrs: NonNullable<Parameters<GraphBuilder['node']>[2]>, rows = N) =>
    () => {
      const g = new GraphBuilder();
      const x = g.input('x', ['N', C]);
      return { graph: g.build([g.node(op, [x], attrs)]), feeds: { x: f32([rows, C]) } };
    };
  const binaryCase = (op: OpName, bShape: number[]) => () => {
    const g = new GraphBuilder();
    const a = g.input('a', ['N', C]);
    const b = g.input('b', bShape);
    return { graph: g.build([g.node(op, [a, b])]), feeds: { a: f32([N, C]), b: f32(bShape) } };
  };
  return {
    Dense: () => {
      const g = new GraphBuilder();
      const x = g.input('x', ['N', C]);
      const w = g.param('w', [C, 4]);
      const b = g.param('b', [4]);
      return { graph: g.build([g.dense(x, w, b)]), feeds: { x: f32([N, C]), w: f32([C, 4]), b: f32([4]) } };
    },
    Relu: unaryCase('Relu'),
    Tanh: unaryCase('Tanh'),
    Exp: unaryCase('Exp'),
    Log: unaryCase('Log', true),
    Softplus: unaryCase('Softplus', false, 10),
    Neg: unaryCase('Neg'),
    Square: unaryCase('Square'),
    Scale: withAttrs('Scale', { alpha: -0.37 }),
    AddConst: withAttrs('AddConst', { c: 2.5 }),
    Add: binaryCase('Add', [C]),
    Sub: binaryCase('Sub', [N, C]),
    Mul: binaryCase('Mul', []),
    MaxScalar: binaryCase('MaxScalar', []),
    SliceCols: withAttrs('SliceCols', { start: 1, end: 4 }),
    SliceRows: withAttrs('SliceRows', { start: 1, end: 3 }),
    ConcatCols: () => {
      const g = new GraphBuilder();
      const a = g.input('a', ['N', C]);
      const b = g.input('b', ['N', 2]);
      return { graph: g.build([g.concatCols(a, b)]), feeds: { a: f32([N, C]), b: f32([N, 2]) } };
    },
    ConcatRows: () => {
      const g = new GraphBuilder();
      const a = g.input('a', ['N', C]);
      const b = g.input('b', ['N', C]);
      return { graph: g.build([g.concatRows(a, b)]), feeds: { a: f32([N, C]), b: f32([2, C]) } };
    },
    Permute: withAttrs('Permute', { perm: [3, 0, 5, 1, 4, 2] }),
    RowSum: unaryCase('RowSum'),
    SumAll: unaryCase('SumAll'),
    Mean: unaryCase('Mean'),
    Const: () => {
      const g = new GraphBuilder();
      g.input('x', ['N', C]);
      return { graph: g.build([g.node('Const', [], { c: -1.75 })]), feeds: { x: f32([N, C]) } };
    },
    MatMulNT: () => {
      const g = new GraphBuilder();
      const a = g.input('a', ['N', C]);
      const b = g.input('b', [4, C]);
      return { graph: g.build([g.node('MatMulNT', [a, b])]), feeds: { a: f32([N, C]), b: f32([4, C]) } };
    },
    MatMulTN: () => {
      const g = new GraphBuilder();
      const a = g.input('a', ['N', C]);
      const b = g.input('b', ['N', 3]);
      return { graph: g.build([g.node('MatMulTN', [a, b])]), feeds: { a: f32([N, C]), b: f32([N, 3]) } };
    },
    ColSum: () => {
      const g = new GraphBuilder();
      const x = g.input('x', ['N', C]);
      const plain = g.node('ColSum', [x]);
      const known = g.node('ColSum', [x], { size: N });
      return { graph: g.build([g.add(plain, known)]), feeds: { x: f32([N, C]) } };
    },
    PassIfPositive: () => {
      // r ≥ 0 by the op's contract (a Relu output), with exact zeros
      const g = new GraphBuilder();
      const a = g.input('a', ['N', C]);
      const r = g.input('r', ['N', C]);
      const rv = f32([N, C]);
      rv.data = rv.data.map((v) => Math.max(v, 0));
      return { graph: g.build([g.node('PassIfPositive', [a, r])]), feeds: { a: f32([N, C]), r: rv } };
    },
    GeMask: binaryCase('GeMask', []),
    Sigmoid: unaryCase('Sigmoid', false, 5),
    Div: binaryCase('Div', [C]),
    PadCols: withAttrs('PadCols', { start: 2, end: 2 + C, size: C + 5 }),
    PadRows: withAttrs('PadRows', { start: 3, end: 3 + N, size: N + 4, rank: 2 }),
    BroadcastCols: () => {
      const g = new GraphBuilder();
      const x = g.input('x', ['N']);
      return { graph: g.build([g.node('BroadcastCols', [x], { size: 4 })]), feeds: { x: f32([N]) } };
    },
    Fill: () => {
      const g = new GraphBuilder();
      const s = g.input('s', []);
      return { graph: g.build([g.node('Fill', [s], { shape: [N, 3] })]), feeds: { s: f32([]) } };
    },
    FillLike: () => {
      const g = new GraphBuilder();
      const s = g.input('s', []);
      const r = g.input('r', [N, 3]);
      return { graph: g.build([g.node('FillLike', [s, r])]), feeds: { s: f32([]), r: f32([N, 3]) } };
    },
    CompressRows: () => {
      const g = new GraphBuilder();
      const x = g.input('x', [N, C]);
      const m = g.input('m', [N]);
      return {
        graph: g.build([g.compressRows(x, m)]),
        feeds: { x: f32([N, C]), m: refTensor([N], [1, 0, 1, 1, 0]) },
      };
    },
  };
})();

describe('ONNX emitter: every IR op matches the float64 reference executor', () => {
  for (const op of Object.keys(OP_CASES) as OpName[]) {
    it(op, async () => {
      const { graph, feeds } = OP_CASES[op]();
      const ref = runRefGraph(graph, feeds)[graph.outputs[0]];
      expectClose(await runOnnx(graph, feeds), ref);
    });
  }

  it('Permute as a permutation-matrix product (the training step choice) is exact', async () => {
    const { graph, feeds } = OP_CASES.Permute();
    const ref = runRefGraph(graph, feeds)[graph.outputs[0]];
    const got = await runOnnx(graph, feeds, 17, { permuteAsMatMul: true });
    expect(Array.from(got.data)).toEqual(Array.from(ref.data));
  });

  it('RowSum on a column and SumAll+column broadcasting also hold at opset 13 and 20', async () => {
    for (const opset of [13, 20]) {
      const g = new GraphBuilder();
      const x = g.input('x', ['N', C]);
      const y = g.add(g.rowSum(g.square(x)), g.sumAll(g.log(g.softplus(x))));
      const graph = g.build([g.scale(y, 0.5)]);
      const feeds = { x: refTensor([N, C], Float32Array.from(rand(N * C))) };
      expectClose(await runOnnx(graph, feeds, opset), runRefGraph(graph, feeds)[graph.outputs[0]]);
    }
  });
});

function gaussian(n: number, mean: number[], scale: number, seed: number): Matrix {
  const r = new Rng(seed);
  const d = mean.length;
  return {
    rows: n,
    cols: d,
    data: Float32Array.from({ length: n * d }, (_, i) => mean[i % d] + scale * r.normal()),
  };
}

/** Inliers with one constant column (dropped by standardization) for table-like data. */
function withConstantColumn(m: Matrix): Matrix {
  const out = new Float32Array(m.rows * (m.cols + 1));
  for (let r = 0; r < m.rows; r++) {
    out.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), r * (m.cols + 1));
    out[r * (m.cols + 1) + m.cols] = 3;
  }
  return { rows: m.rows, cols: m.cols + 1, data: out };
}

async function train(method: Method, preprocess: PreprocessKind, dim = 6): Promise<Detector> {
  const mean = Array.from({ length: dim }, (_, i) => (i % 3) - 1);
  let inliers = gaussian(1200, mean, 2, 1);
  let contrast = gaussian(
    1200,
    mean.map((m) => m + 1),
    3,
    2,
  );
  const columns = Array.from({ length: dim }, (_, i) => `c${i}`);
  if (preprocess === 'standardize') {
    inliers = withConstantColumn(inliers);
    contrast = withConstantColumn(contrast);
    columns.push('constant');
  }
  const c = defaultDetectorConfig(method, preprocess);
  c.flow = { ...c.flow, blocks: 3, hidden: 16, lastLayerInit: 'scaled' };
  c.train = { ...c.train, steps: 40, batchSize: 128 };
  return fitDetector({ inliers, columns, contrast: method === 'flow' ? null : contrast }, c);
}

async function writeExport(det: Detector, name: string): Promise<string> {
  const file = path.join(dir, name);
  fs.writeFileSync(file, exportDetectorOnnx(det, { appVersion: 'test', source: name }).bytes);
  return file;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('exported detectors score like the engine', () => {
  const cases: [Method, PreprocessKind][] = [
    ['cf', 'standardize'],
    ['flow', 'l2'],
    ['ratio', 'none'],
    ['ratio', 'standardize'],
  ];
  for (const [method, pre] of cases) {
    it(`${method} with ${pre} preprocessing: batch 1 and 1000, max |Δ| < 1e-3`, async () => {
      const det = await train(method, pre);
      const file = await writeExport(det, `${method}-${pre}.onnx`);
      const scorer = await OnnxScorer.load(file);
      try {
        const test =
          pre === 'standardize'
            ? withConstantColumn(gaussian(1000, [0, 0, 0, 0, 0, 0], 2.5, 3))
            : gaussian(1000, [0, 0, 0, 0, 0, 0], 2.5, 3);
        const engine = await scoreDetector(det, test);
        const onnxScores = await scorer.score(test);
        expect(maxAbsDiff(onnxScores.score, engine.score)).toBeLessThan(1e-3);
        expect(maxAbsDiff(onnxScores.logProb, engine.logProb!)).toBeLessThan(1e-3);
        const one = { rows: 1, cols: test.cols, data: test.data.slice(0, test.cols) };
        const single = await scorer.score(one);
        expect(single.score.length).toBe(1);
        expect(Math.abs(single.score[0] - engine.score[0])).toBeLessThan(1e-3);
        if (method === 'ratio') {
          // the score is not −log p: both flows are in the graph
          expect(
            maxAbsDiff(
              onnxScores.score,
              onnxScores.logProb.map((v) => -v),
            ),
          ).toBeGreaterThan(1e-2);
        }
      } finally {
        await scorer.release();
      }
    });
  }

  it('writes only inference ops at opset 17, and the metadata the issue asks for', async () => {
    const det = await train('cf', 'standardize');
    const r = exportDetectorOnnx(det, { appVersion: '9.9.9' });
    expect(r.opset).toBe(17);
    const model = onnx.ModelProto.decode(r.bytes);
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17]]);
    const ops = new Set(model.graph!.node!.map((n) => n.opType));
    const allowed = [
      'Gemm',
      'Relu',
      'Tanh',
      'Exp',
      'Log',
      'Softplus',
      'Neg',
      'Mul',
      'Add',
      'Sub',
      'Div',
      'Max',
    ];
    allowed.push('Slice', 'Concat', 'Gather', 'ReduceSum', 'ReduceMean', 'ReduceL2');
    for (const op of ops) expect(allowed).toContain(op);
    expect(model.trainingInfo ?? []).toEqual([]);
    const file = path.join(dir, 'meta.onnx');
    fs.writeFileSync(file, r.bytes);
    const meta = (await readOnnxModelInfo(file)).metadataProps;
    expect(meta['cfstudio.method']).toBe('cf');
    expect(meta['cfstudio.epsilon']).toBe(String(det.eps!.value));
    expect(meta['cfstudio.threshold']).toMatch(/^none: /);
    expect(meta['cfstudio.feature_dim']).toBe('7');
    expect(meta['cfstudio.flow_dim']).toBe('6');
    expect(meta['cfstudio.extractor.name']).toMatch(/none/);
    expect(meta['cfstudio.data_hash.inliers']).toBe(det.meta.dataHashes.inliers);
    expect(meta['cfstudio.data_hash.contrast']).toBe(det.meta.dataHashes.contrast);
    expect(meta['cfstudio.app_version']).toBe('9.9.9');
    expect(meta['cfstudio.format_version']).toBe(String(ONNX_SCORER_VERSION));
    expect(JSON.parse(meta['cfstudio.input_columns'])).toHaveLength(7);
    expect(meta['cfstudio.preprocessing']).toMatch(/constant column\(s\) dropped: constant/);
    // no threshold: no decision output
    expect(model.graph!.output!.map((o) => o.name)).toEqual(['score', 'log_prob']);
  });

  it('with a threshold: an is_anomaly output equal to score ≥ threshold, and the threshold in the metadata', async () => {
    const det = await train('cf', 'l2');
    const test = gaussian(500, [0, 0, 0, 0, 0, 0], 2.5, 5);
    const engine = await scoreDetector(det, test);
    const sorted = Array.from(engine.score).sort((a, b) => a - b);
    const t = sorted[Math.floor(sorted.length * 0.8)];
    const file = path.join(dir, 'decision.onnx');
    const withThreshold = { ...det, thresholds: [{ value: t, fpr: 0.05 }] } as Detector;
    fs.writeFileSync(file, exportDetectorOnnx(withThreshold, { appVersion: 'test' }).bytes);
    const scorer = await OnnxScorer.load(file);
    try {
      expect(scorer.metadata['cfstudio.threshold']).toBe(`${t} @ FPR 0.05`);
      expect(scorer.metadata['cfstudio.outputs']).toMatch(
        /is_anomaly \[N\] bool = score ≥ cfstudio.threshold/,
      );
      const r = await scorer.score(test);
      // Float32 threshold vs float32 scores: the flags agree with the model's own scores
      const f32 = Math.fround(t);
      expect(r.isAnomaly).toEqual(Array.from(r.score, (s) => s >= f32));
      const flagged = r.isAnomaly!.filter(Boolean).length;
      expect(flagged).toBeGreaterThan(80);
      expect(flagged).toBeLessThan(120);
    } finally {
      await scorer.release();
    }
  });
});

describe('bad input', () => {
  it('refuses baselines with a UserError naming the supported methods', async () => {
    const det = await fitDetector(
      { inliers: gaussian(100, [0, 0], 1, 4), columns: ['a', 'b'], contrast: null },
      defaultDetectorConfig('mse'),
    );
    expect(() => exportDetectorOnnx(det, { appVersion: 't' })).toThrow(UserError);
    expect(() => exportDetectorOnnx(det, { appVersion: 't' })).toThrow(
      /supports the flow methods cf, flow, ratio, oe/,
    );
  });

  it('a feature dimension that does not match the model is a UserError before ONNX Runtime runs', async () => {
    const det = await train('flow', 'none', 4);
    const scorer = await OnnxScorer.load(await writeExport(det, 'dim.onnx'));
    try {
      await expect(scorer.score(gaussian(3, [0, 0, 0], 1, 5))).rejects.toThrow(
        /has 3 feature columns, the model .* expects 4/,
      );
    } finally {
      await scorer.release();
    }
  });

  it('--with-extractor on a table detector, and a foreign extractor, are UserErrors', async () => {
    const det = await train('flow', 'none', 4);
    expect(() =>
      exportDetectorOnnx(det, { appVersion: 't', extractor: { bytes: new Uint8Array(8), file: 'x.onnx' } }),
    ).toThrow(/trained on table features/);
    det.meta.extractor = { name: 'moco', sha256: 'ab'.repeat(32), spec: {} };
    expect(() =>
      exportDetectorOnnx(det, { appVersion: 't', extractor: { bytes: new Uint8Array(8), file: 'x.onnx' } }),
    ).toThrow(/is not the extractor/);
  });

  it('truncated, foreign and newer-version ONNX files: clear UserErrors', async () => {
    const det = await train('flow', 'none', 4);
    const bytes = exportDetectorOnnx(det, { appVersion: 't' }).bytes;
    const truncated = path.join(dir, 'truncated.onnx');
    fs.writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expect(OnnxScorer.load(truncated)).rejects.toThrow(/not an ONNX model .*truncated/);
    const text = path.join(dir, 'text.onnx');
    fs.writeFileSync(text, 'hello, this is not a model\n');
    await expect(OnnxScorer.load(text)).rejects.toThrow(UserError);
    expect(() => checkScorerMetadata({}, 'other.onnx')).toThrow(/not a detector exported by CF Studio/);
    expect(() =>
      checkScorerMetadata(
        { 'cfstudio.format': 'cfstudio-onnx-scorer', 'cfstudio.format_version': '99' },
        'new.onnx',
      ),
    ).toThrow(/newer CF Studio/);
  });
});
