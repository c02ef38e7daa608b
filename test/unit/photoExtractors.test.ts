/**
 * Extractors for real photos: a spec's feature output may be an internal tensor of the graph
 * (added as a graph output in memory) or "@penultimate" (the input of the last Gemm/MatMul); the
 * catalog's ImageNet ResNet-18 v2 entry, downloaded with progress and checked (here from a
 * loopback server serving a stand-in file); and the "resize the shorter side, then centre-crop"
 * mode (cropFraction).
 *
 * Real models only: the shared MoCo model (its internal tensors against references computed from
 * its own graph outputs and initializers) and small classifiers written here with onnx-proto.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, resizePlan } from '../../src/main/engine/data/images/decodeImage';
import {
  OnnxExtractor,
  catalogDownload,
  findCatalogEntry,
  formatResize,
  getCatalogEntry,
  modelWithOutput,
  parseInputSpec,
  pixelsToTensor,
  readGraphStructure,
  resolveExtractorSpec,
  sha256File,
  type ExtractorInputSpec,
} from '../../src/main/engine/features';
import { openWorkspace, registerExtractor, type RegisteredExtractor } from '../../src/main/engine/studio';
import { UserError } from '../../src/main/engine/util/errors';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;

const root = fileURLToPath(new URL('../..', import.meta.url));
const REAL_MODEL = path.resolve(root, '../shared/models/moco_r18_cifar10.onnx');
const REAL_SHA256 = 'acad261cf09a4b302ce6bcbad39e3ea8bd78d997402b51c005970eeee85972ba';
const SHARED_README = path.resolve(root, '../shared/models/README.md');
const haveReal = fs.existsSync(REAL_MODEL);

/** The figures of ../shared/models/README.md, "An ImageNet backbone for real photos". */
const RESNET18 = {
  url: 'https://github.com/onnx/models/raw/main/validated/vision/classification/resnet/model/resnet18-v2-7.onnx',
  sha256: '3b4d048057854022232aa20bf68262e31718ab7119a17f920b8a2dc1433f824b',
  bytes: 46_806_737,
};

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cfstudio-photo-extractors-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function dir(name: string): string {
  const d = path.join(tmp, name);
  fs.mkdirSync(d, { recursive: true });
  return d;
}

async function userError(p: Promise<unknown> | (() => unknown)): Promise<UserError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return e as UserError;
  }
  throw new Error('expected a UserError, nothing was thrown');
}

function randomImages(n: number, w: number, h: number, seed: number): Uint8Array[] {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24) & 0xff;
  return Array.from({ length: n }, () => Uint8Array.from({ length: w * h * 3 }, next));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// ------------------------------------------------------------------ a small ImageNet-style classifier

interface ClassifierOptions {
  inputName?: string;
  /** spatial size, or 'dynamic' for symbolic H and W */
  size: number | 'dynamic';
  /** batch dimension: a symbol (default 'N') or fixed, e.g. 1 as in the model zoo's exports */
  batch?: number | string;
  /** the last layer: Gemm (default), MatMul, or none at all */
  head?: 'Gemm' | 'MatMul' | 'none';
  /** a doc_string of this many bytes, to make the file large enough to watch a download */
  padBytes?: number;
}

const CLASSES = 10;
/** head weights W[k, c] = (k + 1) · (c − 1) / 10, bias b[k] = k / 100 */
const headW = Array.from({ length: CLASSES * 3 }, (_, i) => ((Math.floor(i / 3) + 1) * ((i % 3) - 1)) / 10);
const headB = Array.from({ length: CLASSES }, (_, k) => k / 100);

/**
 * data [N, 3, H, W] → Relu "act" → GlobalAveragePool "pooled" [N, 3, 1, 1] → Flatten "flat" [N, 3]
 * → Gemm "fc" (transB) → "logits" [N, 10]: the shape of an ImageNet ResNet's end. The pooled
 * features are the per-channel means of relu(x), so tests can compute them by hand.
 */
function writeClassifierOnnx(file: string, o: ClassifierOptions): Buffer {
  const input = o.inputName ?? 'data';
  const batch = o.batch ?? 'N';
  const hw = o.size === 'dynamic' ? ['H', 'W'] : [o.size, o.size];
  const dim = (d: number | string) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d });
  const vi = (name: string, dims: (number | string)[]) =>
    onnx.ValueInfoProto.create({
      name,
      type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map(dim) } } },
    });
  const nodes: InstanceType<typeof onnx.NodeProto>[] = [
    onnx.NodeProto.create({ opType: 'Relu', name: 'relu', input: [input], output: ['act'] }),
    onnx.NodeProto.create({ opType: 'GlobalAveragePool', name: 'pool', input: ['act'], output: ['pooled'] }),
    onnx.NodeProto.create({
      opType: 'Flatten',
      name: 'flatten',
      input: ['pooled'],
      output: [o.head === 'none' ? 'logits' : 'flat'],
      attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
    }),
  ];
  const initializer: InstanceType<typeof onnx.TensorProto>[] = [];
  if (o.head === 'MatMul') {
    // W as [3, 10] (the transpose of headW), no bias
    const wt = Array.from(
      { length: 3 * CLASSES },
      (_, i) => headW[(i % CLASSES) * 3 + Math.floor(i / CLASSES)],
    );
    initializer.push(
      onnx.TensorProto.create({ name: 'fc.w', dims: [3, CLASSES], dataType: FLOAT, floatData: wt }),
    );
    nodes.push(
      onnx.NodeProto.create({ opType: 'MatMul', name: 'fc', input: ['flat', 'fc.w'], output: ['logits'] }),
    );
  } else if (o.head !== 'none') {
    initializer.push(
      onnx.TensorProto.create({ name: 'fc.w', dims: [CLASSES, 3], dataType: FLOAT, floatData: headW }),
      onnx.TensorProto.create({ name: 'fc.b', dims: [CLASSES], dataType: FLOAT, floatData: headB }),
    );
    nodes.push(
      onnx.NodeProto.create({
        opType: 'Gemm',
        name: 'fc',
        input: ['flat', 'fc.w', 'fc.b'],
        output: ['logits'],
        attribute: [{ name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
      }),
    );
  }
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'cfstudio-tests',
    opsetImport: [{ domain: '', version: 17 }],
    docString: o.padBytes ? 'x'.repeat(o.padBytes) : '',
    graph: onnx.GraphProto.create({
      name: 'classifier',
      node: nodes,
      initializer,
      input: [vi(input, [batch, 3, ...hw])],
      output: [vi('logits', [batch, o.head === 'none' ? 3 : CLASSES])],
    }),
  });
  const bytes = Buffer.from(onnx.ModelProto.encode(model).finish());
  fs.writeFileSync(file, bytes);
  return bytes;
}

/** The classifier's pooled features by hand: per image and channel, the mean of relu(x). */
function pooledByHand(t: Float32Array, n: number, plane: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++)
    for (let c = 0; c < 3; c++) {
      let s = 0;
      for (let j = 0; j < plane; j++) s += Math.max(0, t[(i * 3 + c) * plane + j]);
      out.push(s / plane);
    }
  return out;
}

const classifierSpec = (over: Partial<ExtractorInputSpec> & { outputName: string }): ExtractorInputSpec =>
  parseInputSpec(
    { inputName: 'data', width: 8, height: 8, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], ...over },
    'test',
  );

describe('internal tensors as the feature output (small classifiers)', () => {
  it('"@penultimate" is the Flatten after the global pool: the input of the last Gemm, or of a MatMul', async () => {
    for (const head of ['Gemm', 'MatMul'] as const) {
      const file = path.join(dir(`pen-${head}`), 'classifier.onnx');
      writeClassifierOnnx(file, { size: 8, head });
      const spec = classifierSpec({ outputName: '@penultimate' });
      const r = await resolveExtractorSpec(file, { spec });
      expect(r.spec.outputName).toBe('flat');
      expect(r.output).toEqual({
        name: 'flat',
        symbol: '@penultimate',
        internal: true,
        producer: { opType: 'Flatten', name: 'flatten' },
        consumer: { opType: head, name: 'fc' },
      });
      const ex = await OnnxExtractor.load(file, spec, { providers: ['cpu'] });
      try {
        expect(ex.spec.outputName).toBe('flat');
        expect(ex.dim).toBe(3);
        expect(ex.output).toMatchObject({ name: 'flat', internal: true, shape: [1, 3], flattened: false });
        const n = 4;
        const t = pixelsToTensor(randomImages(n, 8, 8, 7), spec);
        const y = await ex.run(t, n);
        expect(maxAbsDiff(y, pooledByHand(t, n, 64))).toBeLessThan(1e-5);
      } finally {
        await ex.release();
      }
    }
  });

  it('an explicit 4-D pooled tensor [N, 3, 1, 1] is flattened, with a fixed batch of 1 as in the model zoo', async () => {
    const file = path.join(dir('pooled'), 'classifier.onnx');
    writeClassifierOnnx(file, { size: 8, batch: 1 });
    const spec = classifierSpec({ outputName: 'pooled' });
    const ex = await OnnxExtractor.load(file, spec, { providers: ['cpu'] });
    try {
      expect(ex.output).toMatchObject({ name: 'pooled', symbol: null, internal: true, flattened: true });
      expect(ex.output.shape).toEqual([1, 3, 1, 1]);
      const n = 3; // run image by image (batch fixed to 1)
      const t = pixelsToTensor(randomImages(n, 8, 8, 8), spec);
      expect(maxAbsDiff(await ex.run(t, n), pooledByHand(t, n, 64))).toBeLessThan(1e-5);
    } finally {
      await ex.release();
    }
  });

  it('a graph output is still run from the file as it is', async () => {
    const file = path.join(dir('plain'), 'classifier.onnx');
    writeClassifierOnnx(file, { size: 8 });
    const ex = await OnnxExtractor.load(file, classifierSpec({ outputName: 'logits' }), {
      providers: ['cpu'],
    });
    try {
      expect(ex.output).toMatchObject({ name: 'logits', internal: false, shape: [1, 10], flattened: false });
      expect(ex.dim).toBe(10);
    } finally {
      await ex.release();
    }
  });

  it('refuses a name that is no tensor, the model input, a spatial tensor, and "@penultimate" without a Gemm/MatMul', async () => {
    const d = dir('refusals');
    const file = path.join(d, 'classifier.onnx');
    writeClassifierOnnx(file, { size: 8 });

    const nope = await userError(OnnxExtractor.load(file, classifierSpec({ outputName: 'pool_out' })));
    expect(nope.message).toBe(
      `"${file}" has no tensor "pool_out": it is neither an output of the model ("logits") nor computed by one of its 4 nodes`,
    );
    expect(nope.hint).toMatch(/"outputName" in the extractor spec/);
    expect(nope.hint).toContain('"flat" (Flatten), "pooled" (GlobalAveragePool)');
    expect(nope.hint).toContain('"@penultimate"');
    // the same refusal at registration time, before any session
    expect(
      (await userError(resolveExtractorSpec(file, { spec: classifierSpec({ outputName: 'pool_out' }) })))
        .message,
    ).toBe(nope.message);

    const input = await userError(OnnxExtractor.load(file, classifierSpec({ outputName: 'data' })));
    expect(input.message).toMatch(
      /"data" is an input of .*classifier\.onnx.*not a tensor the model computes/,
    );

    // [N, 3, 8, 8] declared by ONNX Runtime's shape inference: refused before running
    const spatial = await userError(OnnxExtractor.load(file, classifierSpec({ outputName: 'act' })));
    expect(spatial.message).toMatch(
      /"act" has shape \[N, 3, 8, 8\]; CF Studio needs one feature vector per image/,
    );
    expect(spatial.hint).toMatch(/@penultimate/);

    // symbolic H, W: the shape is only known by running, and the blank image shows it
    const dyn = path.join(d, 'dynamic.onnx');
    writeClassifierOnnx(dyn, { size: 'dynamic' });
    const onBlank = await userError(OnnxExtractor.load(dyn, classifierSpec({ outputName: 'act' })));
    expect(onBlank.message).toMatch(
      /returned shape \[1, 3, 8, 8\] on "act" for 1 image; CF Studio needs one feature vector per image: \[N, D\], or a pooled \[N, D, 1, 1\]/,
    );
    // …while the pooled tensor of the same model passes
    const ok = await OnnxExtractor.load(dyn, classifierSpec({ outputName: '@penultimate' }));
    expect(ok.dim).toBe(3);
    await ok.release();

    const headless = path.join(d, 'headless.onnx');
    writeClassifierOnnx(headless, { size: 8, head: 'none' });
    const none = await userError(
      OnnxExtractor.load(headless, classifierSpec({ outputName: '@penultimate' })),
    );
    expect(none.message).toMatch(
      /"@penultimate" means the input of the last Gemm\/MatMul node, and .* has none/,
    );
    expect(none.hint).toContain('"logits" (Flatten)');

    expect(() => classifierSpec({ outputName: '@last' })).toThrow(
      /field "outputName": unknown symbolic output; known: @penultimate/,
    );
  });

  it('the model on disk is never changed: the session runs on its bytes plus one appended graph output', async () => {
    const file = path.join(dir('bytes'), 'classifier.onnx');
    const original = writeClassifierOnnx(file, { size: 8 });
    const bytes = await modelWithOutput(file, 'flat');
    expect(Buffer.from(bytes.subarray(0, original.length)).equals(original)).toBe(true);
    const tail = onnx.ModelProto.decode(bytes.subarray(original.length));
    expect(tail.graph?.output?.map((o) => o.name)).toEqual(['flat']);
    // ONNX Runtime's protobuf merges the two graph fields (as the protobuf spec says; protobufjs
    // would replace the first one): the model runs with one more output
    const session = await ort.InferenceSession.create(bytes);
    try {
      expect(session.outputNames).toEqual(['logits', 'flat']);
      const x = new ort.Tensor('float32', new Float32Array(3 * 64).fill(0.5), [1, 3, 8, 8]);
      const r = await session.run({ data: x });
      expect(Array.from(r.flat.data as Float32Array)).toEqual([0.5, 0.5, 0.5]);
      expect(r.logits.dims).toEqual([1, 10]);
    } finally {
      await session.release();
    }
    expect(fs.readFileSync(file).equals(original)).toBe(true);
  });
});

describe('registering a model again', () => {
  it('refuses another feature tensor once features are cached under the old one; l2Normalize and names may change', async () => {
    const d = dir('register-again');
    const file = path.join(d, 'classifier.onnx');
    writeClassifierOnnx(file, { size: 8 });
    const ws = openWorkspace(path.join(d, 'ws.cfstudio'));
    try {
      const logits = classifierSpec({ outputName: 'logits' });
      const first = await registerExtractor(ws, file, { name: 'clf', spec: logits });
      expect(first.dim).toBe(10);
      // no features yet: the spec may still change
      const pen = await registerExtractor(ws, file, {
        name: 'clf',
        spec: { ...logits, outputName: '@penultimate' },
      });
      expect(pen.extractor.id).toBe(first.extractor.id);
      expect(pen.dim).toBe(3);
      ws.features.putMany(first.extractor.id, [{ contentHash: 'a'.repeat(64), vector: new Float32Array(3) }]);
      const e = await userError(registerExtractor(ws, file, { name: 'clf', spec: logits }));
      expect(e.message).toBe(
        'This model file is already the extractor "clf" of this workspace, with features extracted under another spec (it differs in outputName)',
      );
      expect(e.hint).toMatch(/one extractor per model file/);
      expect((ws.extractors.get(first.extractor.id)!.inputSpec as ExtractorInputSpec).outputName).toBe(
        'flat',
      );
      // the same features: a new name and l2Normalize (applied by the detector) are fine
      const renamed = await registerExtractor(ws, file, {
        name: 'clf2',
        spec: { ...logits, outputName: '@penultimate', l2Normalize: false },
      });
      expect(renamed.extractor).toMatchObject({ id: first.extractor.id, name: 'clf2' });
    } finally {
      ws.close();
    }
  });
});

// ------------------------------------------------------------------ the shared MoCo model

/** A float32 initializer of the MoCo model, decoded by the test itself. */
function initializer(model: InstanceType<typeof onnx.ModelProto>, name: string): Float32Array {
  const t = model.graph!.initializer!.find((x) => x.name === name);
  if (!t) throw new Error(`no initializer ${name}`);
  if (t.rawData && t.rawData.length > 0) {
    const raw = Uint8Array.from(t.rawData);
    return new Float32Array(raw.buffer, 0, raw.length / 4);
  }
  return Float32Array.from(t.floatData ?? []);
}

describe.skipIf(!haveReal)(
  `internal tensors of the shared MoCo model${haveReal ? '' : ` (skipped: ${REAL_MODEL} not found)`}`,
  () => {
    const base = { inputName: 'images', width: 32, height: 32 };
    const n = 5;
    let pixels: Float32Array;
    let reference: { backbone: Float32Array; embedding: Float32Array };
    let model: InstanceType<typeof onnx.ModelProto>;

    beforeAll(async () => {
      const spec = parseInputSpec({ ...base, outputName: 'embedding' }, 'test');
      pixels = pixelsToTensor(randomImages(n, 32, 32, 11), spec);
      const session = await ort.InferenceSession.create(REAL_MODEL);
      try {
        const r = await session.run({ images: new ort.Tensor('float32', pixels, [n, 3, 32, 32]) });
        reference = {
          backbone: r.backbone.data as Float32Array,
          embedding: r.embedding.data as Float32Array,
        };
      } finally {
        await session.release();
      }
      model = onnx.ModelProto.decode(fs.readFileSync(REAL_MODEL));
    }, 60_000);

    it('"@penultimate" = the MLP head\'s hidden layer: ReLU(backbone · W0ᵀ + b0) from the initializers, and it feeds the last Gemm', async () => {
      const spec = parseInputSpec({ ...base, outputName: '@penultimate' }, 'test');
      const r = await resolveExtractorSpec(REAL_MODEL, { spec });
      expect(r.sha256).toBe(REAL_SHA256);
      expect(r.spec.outputName).toBe('/enc/head/head.1/Relu_output_0');
      expect(r.output).toMatchObject({
        symbol: '@penultimate',
        internal: true,
        producer: { opType: 'Relu' },
        consumer: { opType: 'Gemm', name: '/enc/head/head.2/Gemm' },
      });
      const ex = await OnnxExtractor.load(REAL_MODEL, r.spec, { providers: ['cpu'] });
      let y: Float32Array;
      try {
        expect(ex.dim).toBe(512);
        expect(ex.output.shape).toEqual([1, 512]);
        y = await ex.run(pixels, n);
      } finally {
        await ex.release();
      }
      // the head's first layer, computed here in float64 from the initializers (Gemm, transB = 1)
      const w0 = initializer(model, 'enc.head.0.weight'); // [512, 512]
      const b0 = initializer(model, 'enc.head.0.bias');
      const hidden = new Float64Array(n * 512);
      for (let i = 0; i < n; i++)
        for (let k = 0; k < 512; k++) {
          let s = b0[k];
          for (let j = 0; j < 512; j++) s += reference.backbone[i * 512 + j] * w0[k * 512 + j];
          hidden[i * 512 + k] = Math.max(0, s);
        }
      expect(maxAbsDiff(y, hidden)).toBeLessThan(1e-4);
      // and the last Gemm on it gives the model's own embedding output
      const w2 = initializer(model, 'enc.head.2.weight'); // [128, 512]
      const b2 = initializer(model, 'enc.head.2.bias');
      const emb = new Float64Array(n * 128);
      for (let i = 0; i < n; i++)
        for (let k = 0; k < 128; k++) {
          let s = b2[k];
          for (let j = 0; j < 512; j++) s += y[i * 512 + j] * w2[k * 512 + j];
          emb[i * 128 + k] = s;
        }
      expect(maxAbsDiff(emb, reference.embedding)).toBeLessThan(1e-4);
    });

    it('an explicit internal name: GlobalAveragePool [N, 512, 1, 1], flattened, equals the "backbone" output', async () => {
      const spec = parseInputSpec(
        { ...base, outputName: '/enc/backbone/GlobalAveragePool_output_0' },
        'test',
      );
      const ex = await OnnxExtractor.load(REAL_MODEL, spec, { providers: ['cpu'] });
      try {
        expect(ex.output).toMatchObject({ internal: true, flattened: true, shape: [1, 512, 1, 1] });
        expect(ex.dim).toBe(512);
        expect(maxAbsDiff(await ex.run(pixels, n), reference.backbone)).toBeLessThan(1e-6);
      } finally {
        await ex.release();
      }
    });

    it('refuses a wrong name and the 4×4 feature map of layer4, saying what to choose', async () => {
      const bad = await userError(
        OnnxExtractor.load(REAL_MODEL, parseInputSpec({ ...base, outputName: '/enc/head/Relu' }, 'test')),
      );
      expect(bad.message).toMatch(
        /has no tensor "\/enc\/head\/Relu": it is neither an output of the model \("embedding", "backbone"\)/,
      );
      expect(bad.hint).toContain('"/enc/head/head.1/Relu_output_0" (Relu)');
      const map = await userError(
        OnnxExtractor.load(
          REAL_MODEL,
          parseInputSpec({ ...base, outputName: '/enc/backbone/layer4/layer4.1/Relu_1_output_0' }, 'test'),
        ),
      );
      expect(map.message).toMatch(
        /has shape \[batch, 512, 4, 4\]; CF Studio needs one feature vector per image/,
      );
    });

    it("registration stores the resolved tensor under the original file's sha256 and says what it resolved to", async () => {
      const d = dir('moco-register');
      const specFile = path.join(d, 'spec.json');
      fs.writeFileSync(specFile, JSON.stringify({ ...base, outputName: '@penultimate' }));
      const ws = openWorkspace(path.join(d, 'ws.cfstudio'));
      let r: RegisteredExtractor;
      try {
        r = await registerExtractor(ws, REAL_MODEL, { name: 'moco-hidden', specFile });
        const row = ws.extractors.byName('moco-hidden')!;
        expect(row.fileHash).toBe(REAL_SHA256);
        expect(row.path).toBe(REAL_MODEL);
        expect((row.inputSpec as ExtractorInputSpec).outputName).toBe('/enc/head/head.1/Relu_output_0');
      } finally {
        ws.close();
      }
      expect(r.dim).toBe(512);
      expect(r.downloaded).toBeNull();
      expect(r.outputNote).toBe(
        '"@penultimate" = "/enc/head/head.1/Relu_output_0" (the input of Gemm "/enc/head/head.2/Gemm"; ' +
          'computed by Relu "/enc/head/head.1/Relu"), an internal tensor added as a graph output; [1, 512] for one image',
      );
      expect(await sha256File(REAL_MODEL)).toBe(REAL_SHA256); // untouched
    });

    it('reads its graph structure without the weights, quickly', async () => {
      const t0 = performance.now();
      const g = await readGraphStructure(REAL_MODEL);
      expect(performance.now() - t0).toBeLessThan(2000);
      expect(g.outputs).toEqual(['embedding', 'backbone']);
      expect(g.inputs).toEqual(['images']);
      expect(g.nodes.length).toBe(52);
      expect(g.nodes[g.nodes.length - 1]).toMatchObject({ opType: 'Gemm', outputs: ['embedding'] });
    });
  },
);

// ------------------------------------------------------------------ the catalog entry

describe("catalog: the model zoo's ImageNet ResNet-18 v2", () => {
  const entry = () => getCatalogEntry('resnet18-v2-imagenet');

  it('has the URL, sha256 and size of ../shared/models/README.md, and downloads through the verified path', () => {
    expect(entry()).toMatchObject({ status: 'verified', ...RESNET18 });
    expect(entry().license).toMatch(/Apache-2\.0/);
    expect(catalogDownload(entry())).toEqual(RESNET18);
    if (fs.existsSync(SHARED_README)) {
      const readme = fs.readFileSync(SHARED_README, 'utf8');
      expect(readme).toContain(`\`${RESNET18.url}\``);
      expect(readme).toContain(RESNET18.sha256);
      expect(readme).toContain(`${RESNET18.bytes.toLocaleString('en-US')} bytes`);
    }
  });

  it('is found by its aliases', () => {
    for (const alias of ['resnet18-v2', 'resnet18'])
      expect(findCatalogEntry(alias)?.id).toBe('resnet18-v2-imagenet');
    expect(findCatalogEntry('moco')?.id).toBe('moco-v2-r50-imagenet');
  });

  it("its spec is the zoo's preprocessing: data 224×224 NCHW RGB, shorter side 256 then centre 224, 255-scaled mean/std, the pooled tensor", () => {
    const s = entry().spec;
    expect(s).toMatchObject({
      inputName: 'data',
      outputName: '@penultimate',
      width: 224,
      height: 224,
      layout: 'NCHW',
      channelOrder: 'RGB',
      resize: 'center-crop',
      cropFraction: 0.875,
      l2Normalize: true,
    });
    expect(formatResize(s)).toBe('center-crop 0.875 (shorter side to 256, centre 224×224)');
    // the zoo: (p − 255·mean) / (255·std) on 0..255 pixels, for every byte value and colour
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    for (let c = 0; c < 3; c++)
      for (let p = 0; p <= 255; p++) {
        const zoo = (p - 255 * mean[c]) / (255 * std[c]);
        expect(Math.abs((p * s.scale - s.mean[c]) / s.std[c] - zoo)).toBeLessThan(1e-9);
      }
    // and it parses as the spec it is (a symbolic output is a valid outputName)
    expect(parseInputSpec(JSON.parse(JSON.stringify(s)), 'catalog')).toEqual(s);
  });
});

// ------------------------------------------------------------------ download from a loopback server

describe('adding the catalog entry downloads it (loopback server, a stand-in file)', () => {
  const CHUNK = 64 * 1024;
  let server: http.Server;
  let base: string;
  let standIn: Buffer;
  let standInSha: string;
  let other: Buffer;
  const hits: string[] = [];
  let resources: string;

  beforeAll(async () => {
    const d = dir('zoo-server');
    // stands in for resnet18-v2-7.onnx: input "data" [1, 3, 224, 224], pool → Flatten → Gemm, ~2 MB
    standIn = writeClassifierOnnx(path.join(d, 'stand-in.onnx'), { size: 224, batch: 1, padBytes: 2 << 20 });
    standInSha = createHash('sha256').update(standIn).digest('hex');
    // the same size, one byte of the padding changed: only the sha256 tells them apart
    other = Buffer.from(standIn);
    other[1 << 20] ^= 1;
    server = http.createServer((req, res) => {
      hits.push(req.url ?? '');
      const body = req.url === '/resnet18-v2-7.onnx' ? standIn : req.url === '/changed.onnx' ? other : null;
      if (!body) {
        res.writeHead(404).end('not found');
        return;
      }
      res.writeHead(200, {
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(body.length),
      });
      let off = 0;
      const send = () => {
        if (res.destroyed) return;
        if (off >= body.length) return void res.end();
        res.write(body.subarray(off, off + CHUNK));
        off += CHUNK;
        setTimeout(send, 5);
      };
      send();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // the real entry, pointed at the loopback server and the stand-in's sha256 and size
    resources = dir('zoo-resources');
    const real = getCatalogEntry('resnet18-v2-imagenet');
    const changed = { ...real, id: 'changed', aliases: [], url: `${base}/changed.onnx` };
    fs.writeFileSync(
      path.join(resources, 'extractors.json'),
      JSON.stringify({
        version: 1,
        extractors: [
          { ...real, url: `${base}/resnet18-v2-7.onnx`, sha256: standInSha, bytes: standIn.length },
          { ...changed, sha256: standInSha, bytes: standIn.length },
        ],
      }),
    );
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** Runs `f` with the catalog of `resources` (CFSTUDIO_RESOURCES). */
  async function withCatalog<T>(f: () => Promise<T>): Promise<T> {
    const saved = process.env.CFSTUDIO_RESOURCES;
    process.env.CFSTUDIO_RESOURCES = resources;
    try {
      return await f();
    } finally {
      if (saved === undefined) delete process.env.CFSTUDIO_RESOURCES;
      else process.env.CFSTUDIO_RESOURCES = saved;
    }
  }

  it('registerExtractor("resnet18-v2"): progress, sha256 checked, "@penultimate" resolved; the second time reuses the file', async () => {
    const d = dir('zoo-add');
    const ws = openWorkspace(path.join(d, 'ws.cfstudio'));
    try {
      const seen: { received: number; total: number | null }[] = [];
      const r = await withCatalog(() =>
        registerExtractor(ws, 'resnet18-v2', {
          onDownload: (p) => seen.push({ received: p.received, total: p.total }),
        }),
      );
      const file = path.join(d, 'models', 'resnet18-v2-imagenet.onnx');
      expect(r.downloaded).toEqual({ entryId: 'resnet18-v2-imagenet', file });
      expect(fs.readFileSync(file).equals(standIn)).toBe(true);
      expect(r.extractor).toMatchObject({ name: 'resnet18-v2-imagenet', fileHash: standInSha, path: file });
      expect(r.specSource).toBe('catalog');
      expect(r.spec).toMatchObject({ outputName: 'flat', cropFraction: 0.875, width: 224 });
      expect(r.dim).toBe(3);
      expect(r.outputNote).toMatch(
        /^"@penultimate" = "flat" \(the input of Gemm "fc"; computed by Flatten "flatten"\)/,
      );
      // progress: from 0 to the whole file, never backwards, the size known from the start
      expect(seen.length).toBeGreaterThanOrEqual(3);
      expect(seen[0].received).toBe(0);
      expect(seen[seen.length - 1].received).toBe(standIn.length);
      for (let i = 1; i < seen.length; i++)
        expect(seen[i].received).toBeGreaterThanOrEqual(seen[i - 1].received);
      expect(seen.every((p) => p.total === standIn.length)).toBe(true);

      const before = hits.length;
      const again = await withCatalog(() => registerExtractor(ws, 'resnet18-v2-imagenet'));
      expect(hits.length).toBe(before);
      expect(again.extractor.id).toBe(r.extractor.id);
    } finally {
      ws.close();
    }
  });

  it('a server that sends another file: refused with both hashes, nothing saved, nothing registered', async () => {
    const d = dir('zoo-wrong');
    const ws = openWorkspace(path.join(d, 'ws.cfstudio'));
    try {
      const e = await withCatalog(() => userError(registerExtractor(ws, 'changed')));
      expect(e.message).toContain(`${base}/changed.onnx is not the expected one`);
      expect(e.message).toContain(standInSha);
      expect(e.message).toContain(createHash('sha256').update(other).digest('hex'));
      expect(fs.existsSync(path.join(d, 'models')) ? fs.readdirSync(path.join(d, 'models')) : []).toEqual([]);
      expect(ws.extractors.list()).toEqual([]);
    } finally {
      ws.close();
    }
  });

  it('`cfstudio extractor add resnet18-v2` prints the download, the resize and what "@penultimate" resolved to', async () => {
    const d = dir('zoo-cli');
    const child = spawn(
      process.execPath,
      ['bin/cfstudio.mjs', 'extractor', 'add', 'resnet18-v2', '--workspace', path.join(d, 'ws.cfstudio')],
      {
        cwd: root,
        env: { ...process.env, CFSTUDIO_RESOURCES: resources },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(0);
    const mb = (standIn.length / 1e6).toFixed(1);
    expect(stderr).toContain(`[download resnet18-v2] ${mb}/${mb} MB`);
    expect(stdout).toContain(
      `catalog entry resnet18-v2-imagenet: ${path.join(d, 'models', 'resnet18-v2-imagenet.onnx')} (sha256 verified)`,
    );
    expect(stdout).toContain('center-crop 0.875 (shorter side to 256, centre 224×224)');
    expect(stdout).toContain('(spec from catalog) → 3-d features');
    expect(stdout).toMatch(
      /features: "@penultimate" = "flat" .*an internal tensor added as a graph output; \[1, 3\] for one image/,
    );
  }, 120_000);
});

// ------------------------------------------------------------------ resize: shorter side, then centre crop

describe('resize with a crop fraction (shorter side to 256, centre 224×224)', () => {
  const target = { width: 224, height: 224, resize: 'center-crop' as const, cropFraction: 0.875 };

  it("plans the crop box as torchvision's Resize(256) + CenterCrop(224), worked by hand", () => {
    // 500×375: short side 375 → 256, long 500 · 256/375 = 341.33 → 341; crop (341−224)/2 = 58.5 → 58 (half to even), (256−224)/2 = 16
    expect(resizePlan(500, 375, target)).toEqual({ resizeWidth: 341, resizeHeight: 256, left: 58, top: 16 });
    expect(resizePlan(375, 500, target)).toEqual({ resizeWidth: 256, resizeHeight: 341, left: 16, top: 58 });
    // 640×427: 640 · 256/427 = 383.7 → 383; (383−224)/2 = 79.5 → 80 (half to even)
    expect(resizePlan(640, 427, target)).toEqual({ resizeWidth: 383, resizeHeight: 256, left: 80, top: 16 });
    // a small image is enlarged the same way
    expect(resizePlan(32, 32, target)).toEqual({ resizeWidth: 256, resizeHeight: 256, left: 16, top: 16 });
    // squash: the 256×256 box itself, then the centre
    expect(resizePlan(500, 375, { ...target, resize: 'squash' })).toEqual({
      resizeWidth: 256,
      resizeHeight: 256,
      left: 16,
      top: 16,
    });
    // timm's floor(size / crop_pct): 224 / 0.9 = 248.9 → 248
    expect(resizePlan(500, 375, { ...target, cropFraction: 0.9 })).toMatchObject({
      resizeHeight: 248,
      resizeWidth: 330,
    });
  });

  /** A 500×375 photo-like PNG: red = x ramp, green = y ramp, blue = 16-px checkerboard. */
  async function photo(): Promise<{ file: string; png: Buffer }> {
    const W = 500;
    const H = 375;
    const px = Buffer.alloc(W * H * 3);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const o = (y * W + x) * 3;
        px[o] = Math.round((x * 255) / (W - 1));
        px[o + 1] = Math.round((y * 255) / (H - 1));
        px[o + 2] = ((x >> 4) ^ (y >> 4)) & 1 ? 200 : 40;
      }
    const png = await sharp(px, { raw: { width: W, height: H, channels: 3 } })
      .png()
      .toBuffer();
    const file = path.join(dir('photo'), 'photo-500x375.png');
    fs.writeFileSync(file, png);
    return { file, png };
  }

  it('decodes a 500×375 image to the crop box computed by hand', async () => {
    const { file, png } = await photo();
    const out = await decodeImage(file, target);
    expect(out.length).toBe(224 * 224 * 3);
    // output pixel (x, y) is resized pixel (58 + x, 16 + y), i.e. source ((58 + x + ½) · 500/341 − ½, (16 + y + ½) · 375/256 − ½):
    // the red and green ramps give the source position back
    for (const x of [0, 37, 111, 223]) {
      const srcX = ((58 + x + 0.5) * 500) / 341 - 0.5;
      expect(Math.abs(out[(100 * 224 + x) * 3] - (srcX * 255) / 499)).toBeLessThan(1.5);
    }
    for (const y of [0, 64, 150, 223]) {
      const srcY = ((16 + y + 0.5) * 375) / 256 - 0.5;
      expect(Math.abs(out[(y * 224 + 100) * 3 + 1] - (srcY * 255) / 374)).toBeLessThan(1.5);
    }
    // exactly sharp's resize to 341×256 and that crop
    const want = await sharp(png)
      .resize(341, 256, { fit: 'fill', fastShrinkOnLoad: false })
      .extract({ left: 58, top: 16, width: 224, height: 224 })
      .raw()
      .toBuffer();
    expect(Buffer.from(out).equals(want)).toBe(true);
    // not the plain centre crop (shorter side to 224), which keeps more of the image
    const plain = await decodeImage(file, { ...target, cropFraction: 1 });
    expect(Math.abs(plain[(100 * 224 + 0) * 3] - out[(100 * 224 + 0) * 3])).toBeGreaterThan(5);
    expect(
      Buffer.from(plain).equals(Buffer.from(await decodeImage(file, { ...target, cropFraction: undefined }))),
    ).toBe(true);
  });

  it('plans on the displayed size: a JPEG stored 500×375 with EXIF orientation 6 is 375×500', async () => {
    const { png } = await photo();
    const jpeg = await sharp(png)
      .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const out = await decodeImage(jpeg, target);
    // displayed 375×500 → 256×341, crop top 58; displayed x runs along stored y (rotated 90° clockwise):
    // the green ramp (stored y) now falls from left to right, the red ramp (stored x) grows downwards
    const srcAlongX = (x: number) => ((16 + x + 0.5) * 375) / 256 - 0.5; // displayed x, in the 375-px axis
    const srcAlongY = (y: number) => ((58 + y + 0.5) * 500) / 341 - 0.5; // displayed y, in the 500-px axis
    for (const x of [0, 100, 223])
      expect(Math.abs(out[(112 * 224 + x) * 3 + 1] - ((374 - srcAlongX(x)) * 255) / 374)).toBeLessThan(3);
    for (const y of [0, 100, 223])
      expect(Math.abs(out[(y * 224 + 112) * 3] - (srcAlongY(y) * 255) / 499)).toBeLessThan(3);
  });

  it("specs: cropFraction defaults to 1 (today's resize) and must be in (0, 1]", () => {
    const s = parseInputSpec(
      { inputName: 'x', outputName: 'y', width: 224, height: 224, resize: 'center-crop' },
      'old.json',
    );
    expect(s.cropFraction).toBe(1);
    expect(formatResize(s)).toBe('center-crop');
    for (const f of [0, 1.5, -1]) {
      expect(() =>
        parseInputSpec(
          { inputName: 'x', outputName: 'y', width: 224, height: 224, cropFraction: f },
          'new.json',
        ),
      ).toThrow(/spec in new\.json is invalid: field "cropFraction": cropFraction must be > 0 and at most 1/);
    }
    expect(
      formatResize(
        parseInputSpec(
          { inputName: 'x', outputName: 'y', width: 224, height: 160, resize: 'squash', cropFraction: 0.8 },
          's',
        ),
      ),
    ).toBe('squash 0.8 (squashed to 280×200, centre 224×160)');
  });
});
