/**
 * Execution providers (devices): which to try for each setting, why each unusable one is passed
 * over, the real fallback to the CPU when a GPU provider loads but finds no device (WebGPU with a
 * Vulkan loader and no adapter, as on these GPU-less machines), and that every op of the
 * training and export graphs has a kernel in the CUDA and DirectML providers' published lists
 * (test/fixtures/provider-ops, from ONNX Runtime's OperatorKernels.md).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  providersForDevice,
  providerUnavailableReason,
  requestedDevice,
} from '../../src/main/engine/backend/ortProviders';
import { defaultDetectorConfig } from '../../src/main/engine/detector/config';
import { fitDetector } from '../../src/main/engine/detector/fitDetector';
import type { Method } from '../../src/main/engine/detector/methods';
import type { PreprocessKind } from '../../src/main/engine/detector/preprocess';
import { exportDetectorOnnx } from '../../src/main/engine/export';
import { openOrtSession } from '../../src/main/engine/features/ortSession';
import { initFlowParams } from '../../src/main/engine/flow/params';
import { makeFlowSpec } from '../../src/main/engine/flow/spec';
import { cfObjective } from '../../src/main/engine/train/objectives/cf';
import { nllObjective } from '../../src/main/engine/train/objectives/nll';
import { oeObjective } from '../../src/main/engine/train/objectives/oe';
import { OrtStepRunner } from '../../src/main/engine/train/ort/ortStepRunner';
import { buildTrainLoopModel } from '../../src/main/engine/train/ort/trainLoopGraph';
import { buildTrainStepModel } from '../../src/main/engine/train/ort/trainStepGraph';
import { Rng } from '../../src/main/engine/util/rng';

const { onnx } = onnxProto;
const moco = path.resolve(__dirname, '../../../shared/models/moco_r18_cifar10.onnx');
const fixtures = path.resolve(__dirname, '../fixtures/provider-ops');
const saved = { device: process.env.CFSTUDIO_DEVICE, ld: process.env.LD_LIBRARY_PATH };

afterEach(() => {
  for (const [k, v] of [
    ['CFSTUDIO_DEVICE', saved.device],
    ['LD_LIBRARY_PATH', saved.ld],
  ] as const)
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
});

describe('which providers a device setting tries', () => {
  it('auto: the platform’s vendor GPU, then WebGPU, then the CPU; a named device: it, then the CPU', () => {
    expect(providersForDevice('auto', 'linux')).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(providersForDevice('auto', 'win32')).toEqual(['cuda', 'dml', 'webgpu', 'cpu']);
    expect(providersForDevice('auto', 'darwin')).toEqual(['coreml', 'webgpu', 'cpu']);
    expect(providersForDevice('cpu', 'linux')).toEqual(['cpu']);
    expect(providersForDevice('dml', 'win32')).toEqual(['dml', 'cpu']);
    expect(requestedDevice({ CFSTUDIO_DEVICE: 'webgpu' })).toBe('webgpu');
    expect(requestedDevice({ CFSTUDIO_DEVICE: 'gpu' })).toBe('auto');
    expect(requestedDevice({})).toBe('auto');
  });

  it('says why a provider cannot run here', () => {
    expect(providerUnavailableReason('cpu')).toBeNull();
    if (process.platform === 'linux') {
      expect(providerUnavailableReason('dml')).toMatch(/DirectML is Windows-only/);
      expect(providerUnavailableReason('coreml')).toMatch(/CoreML is macOS-only/);
      // the CUDA provider library comes from NuGet at install time (skipped by this project's .npmrc)
      expect(providerUnavailableReason('cuda')).toMatch(
        /libonnxruntime_providers_cuda\.so is not installed.*cuda12/,
      );
      const vulkan = ['/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib'].some((d) =>
        fs.existsSync(path.join(d, 'libvulkan.so.1')),
      );
      if (!vulkan) expect(providerUnavailableReason('webgpu')).toMatch(/no Vulkan loader/);
    }
  });
});

describe.skipIf(!fs.existsSync(moco) || process.platform !== 'linux')('falling back to the CPU', () => {
  it('--device webgpu without a GPU: WebGPU is tried, finds no adapter, and the model runs on the CPU', async () => {
    // a Vulkan loader file lets the provider past the pre-check, so ONNX Runtime really tries it
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-vk-'));
    fs.writeFileSync(path.join(dir, 'libvulkan.so.1'), '');
    process.env.LD_LIBRARY_PATH = dir;
    process.env.CFSTUDIO_DEVICE = 'webgpu';
    expect(providerUnavailableReason('webgpu')).toBeNull();
    const { session, provider, attempts } = await openOrtSession(moco);
    try {
      expect(provider).toBe('cpu');
      expect(attempts.map((a) => [a.provider, a.ok])).toEqual([
        ['webgpu', false],
        ['cpu', true],
      ]);
      expect(attempts[0].reason).toMatch(/adapter|WebGPU|Vulkan/i);
    } finally {
      await session.release();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('the training step records the provider it runs on, and why the asked-for one was passed over', async () => {
    process.env.CFSTUDIO_DEVICE = 'cuda';
    const spec = makeFlowSpec(4, { blocks: 1, hidden: 8 }, 1);
    const runner = await OrtStepRunner.create({
      spec,
      objective: cfObjective(spec, 8, 8),
      bx: 8,
      by: 8,
      params: initFlowParams(spec, 1),
      adam: { lr: 1e-3, totalSteps: 10, clipNorm: 10 },
      eps: 0,
    });
    try {
      expect(runner.backend).toBe('ort-cpu');
      expect(runner.attempts[0]).toMatchObject({ provider: 'cuda', ok: false });
      expect(runner.attempts[0].reason).toMatch(/not installed/);
      const rng = new Rng(3);
      const batch = () => Float32Array.from({ length: 8 * 4 }, () => rng.normal());
      const [r] = await runner.steps(1, batch(), batch());
      expect(Number.isFinite(r.loss)).toBe(true);
    } finally {
      await runner.dispose();
    }
  });
});

type OpList = { ops: Record<string, [number, number | null][]>; source: string };
const lists: Record<'cuda' | 'dml', OpList> = {
  cuda: JSON.parse(fs.readFileSync(path.join(fixtures, 'cuda.json'), 'utf8')),
  dml: JSON.parse(fs.readFileSync(path.join(fixtures, 'dml.json'), 'utf8')),
};

/** Op types of a graph and of its subgraphs (Loop bodies), default domain only. */
function opsOf(g: onnxProto.onnx.IGraphProto, into = new Set<string>()): Set<string> {
  for (const n of g.node ?? []) {
    if (!n.domain) into.add(n.opType!);
    for (const a of n.attribute ?? []) if (a.g) opsOf(a.g, into);
  }
  return into;
}

/**
 * Whether `provider`'s list has `op` at `opset`. CUDA lists closed ranges ([7, 12]) and an open
 * newest one (13+); DML writes every range as "N+", read as "from N on".
 */
function supported(provider: 'cuda' | 'dml', op: string, opset: number): boolean {
  const ranges = lists[provider].ops[op];
  if (!ranges) return false;
  return ranges.some(([from, to]) => opset >= from && (to === null || opset <= to));
}

function trainingGraphs() {
  const spec = makeFlowSpec(6, { blocks: 2, hidden: 12 }, 2);
  const adam = { lr: 1e-3, totalSteps: 10, clipNorm: 10 };
  const objectives = [cfObjective(spec, 8, 8), nllObjective(spec, 8), oeObjective(1, 1)(spec, 8, 8)];
  return objectives.flatMap((objective) => {
    const o = { spec, objective, bx: 8, by: 8, adam };
    return [buildTrainStepModel(o).bytes, buildTrainLoopModel(o).bytes];
  });
}

async function exportGraphs(): Promise<Uint8Array[]> {
  const rng = new Rng(5);
  const x = { rows: 64, cols: 6, data: Float32Array.from({ length: 64 * 6 }, () => rng.normal()) };
  const y = { rows: 64, cols: 6, data: Float32Array.from({ length: 64 * 6 }, () => 2 * rng.normal()) };
  const out: Uint8Array[] = [];
  const cases: [Method, PreprocessKind][] = [
    ['cf', 'l2'],
    ['flow', 'standardize'],
    ['ratio', 'median-iqr'],
    ['oe', 'none'],
  ];
  for (const [method, pre] of cases) {
    const c = defaultDetectorConfig(method, pre);
    c.flow = { ...c.flow, blocks: 2, hidden: 8 };
    c.train = { ...c.train, steps: 3, batchSize: 32 };
    c.oe.steps = 2;
    const columns = ['a', 'b', 'c', 'd', 'e', 'f'];
    const det = await fitDetector({ inliers: x, columns, contrast: method === 'flow' ? null : y }, c);
    out.push(
      exportDetectorOnnx({ ...det, thresholds: [{ value: 1, fpr: 0.05 }] } as never, { appVersion: 't' })
        .bytes,
    );
  }
  return out;
}

describe('every op of the training and export graphs has a CUDA and a DirectML kernel', () => {
  it('checks against lists taken from ONNX Runtime’s OperatorKernels.md (the committed fixtures)', async () => {
    expect(lists.cuda.source).toMatch(
      /github\.com\/microsoft\/onnxruntime\/blob\/[0-9a-f]{40}\/docs\/OperatorKernels\.md/,
    );
    const models = [...trainingGraphs(), ...(await exportGraphs())].map((b) => onnx.ModelProto.decode(b));
    const missing: Record<'cuda' | 'dml', Set<string>> = { cuda: new Set(), dml: new Set() };
    const used = new Set<string>();
    for (const m of models) {
      const opset = Number(m.opsetImport!.find((o) => !o.domain)!.version);
      for (const op of opsOf(m.graph!)) {
        used.add(`${op}@${opset}`);
        // ONNX Runtime turns Constant nodes into initializers when it loads a model: no kernel runs
        if (op === 'Constant') continue;
        for (const p of ['cuda', 'dml'] as const) if (!supported(p, op, opset)) missing[p].add(op);
      }
    }
    expect(used.size).toBeGreaterThan(15);
    expect([...missing.cuda]).toEqual([]);
    // DirectML has no Loop kernel: ONNX Runtime runs the Loop node itself on the CPU provider and
    // places its body's nodes on DirectML (a copy of the state per call, not per step)
    expect([...missing.dml]).toEqual(['Loop']);
  }, 120_000);
});
