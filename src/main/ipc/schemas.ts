/**
 * Runtime validation of every IPC call's arguments (the renderer is untrusted): one zod schema
 * per channel of src/shared/ipc.ts, for the argument tuple. Strict objects: unknown keys are refused.
 * Every string and array has a maximum size, and before any schema runs a budget check walks
 * the raw arguments (at most ARG_LIMITS.values values, strings, arrays, object keys and depth
 * bounded), so an oversized call is refused in microseconds instead of being validated for
 * seconds on the main thread.
 */
import { z } from 'zod';
import type { IpcInvokeChannel } from '../../shared/ipc';
import { DEVICES, METHODS } from '../engine/studio';

const id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
/** a label (subfolder name) */
const label = z.string().max(500);
/** at most as many labels as a dataset can sensibly have */
const labels = z.array(label).max(10_000);
const pathString = z.string().min(1).max(4096);
const name = z.string().trim().min(1).max(200);
const selection = z.strictObject({
  datasetId: id,
  labels: labels.nullable(),
});
const method = z.enum(METHODS);

/** mean/std of an input spec: one value for every channel, or [r, g, b] (always sent on as three) */
const perChannel = z
  .array(z.number().finite())
  .min(1)
  .max(3)
  .refine((v) => v.length !== 2, { error: 'expected 1 or 3 numbers' })
  .transform((v) => (v.length === 1 ? [v[0], v[0], v[0]] : v));

const extractorSpec = z.strictObject({
  inputName: z.string().min(1).max(256),
  outputName: z.string().min(1).max(256),
  width: z.number().int().positive().max(8192),
  height: z.number().int().positive().max(8192),
  layout: z.enum(['NCHW', 'NHWC']),
  channelOrder: z.enum(['RGB', 'BGR']),
  scale: z.number().positive().finite(),
  mean: perChannel,
  std: perChannel,
  resize: z.enum(['center-crop', 'squash']),
  cropFraction: z.number().gt(0).max(1).optional(),
  l2Normalize: z.boolean(),
});

export const trainRequestSchema = z.strictObject({
  name: name.optional(),
  method,
  inliers: selection,
  contrast: selection.nullable(),
  test: z
    .strictObject({ datasetId: id, inlierLabels: labels.min(1) })
    .nullable()
    .optional(),
  extractorId: id,
  // flow settings: absent = chosen by the engine's inlier-count rule
  steps: z.number().int().min(1).max(1_000_000).optional(),
  eps: z.union([z.number().finite(), z.literal('auto')]).optional(),
  hidden: z.number().int().min(4).max(4096).optional(),
  blocks: z.number().int().min(1).max(64).optional(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1),
});

const CHANNEL_SCHEMAS: Record<IpcInvokeChannel, z.ZodType<unknown[]>> = {
  'app:info': z.tuple([]),
  'app:setDevice': z.tuple([z.strictObject({ device: z.enum(DEVICES) })]),
  'dialog:pickFolder': z.tuple([z.strictObject({ title: z.string().max(200) })]),
  'dialog:pickFile': z.tuple([
    z.strictObject({
      title: z.string().max(200),
      extensions: z.array(z.string().regex(/^[a-z0-9]{1,10}$/i)).max(10),
    }),
  ]),
  'dialog:pickSavePath': z.tuple([
    z.strictObject({
      title: z.string().max(200),
      defaultName: z
        .string()
        .max(255)
        .regex(/^[^/\\]*$/),
    }),
  ]),
  'datasets:list': z.tuple([]),
  'datasets:get': z.tuple([z.strictObject({ id })]),
  'datasets:add': z.tuple([z.strictObject({ path: pathString, name: name.optional() })]),
  'datasets:items': z.tuple([
    z.strictObject({
      id,
      offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
      limit: z.number().int().min(1).max(1000),
      label: label.nullable().optional(),
    }),
  ]),
  'datasets:remove': z.tuple([z.strictObject({ id })]),
  'extractors:list': z.tuple([]),
  'extractors:import': z.tuple([
    z.strictObject({ path: pathString, name: name.optional(), spec: extractorSpec.optional() }),
  ]),
  'methods:list': z.tuple([]),
  'runs:train': z.tuple([trainRequestSchema]),
  'runs:score': z.tuple([z.strictObject({ runId: id, datasetId: id })]),
  'runs:list': z.tuple([]),
  'runs:get': z.tuple([z.strictObject({ id })]),
  'runs:scores': z.tuple([
    z.strictObject({
      id,
      offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
      limit: z.number().int().min(1).max(2000),
      group: z.string().max(500).nullable().optional(),
    }),
  ]),
  'runs:item': z.tuple([
    z.strictObject({ runId: id, itemId: id, neighbors: z.number().int().min(0).max(50) }),
  ]),
  'runs:setThreshold': z.tuple([z.strictObject({ runId: id, targetFpr: z.number().min(0).max(1) })]),
  'runs:remove': z.tuple([z.strictObject({ id })]),
  'runs:mark': z.tuple([
    z.strictObject({
      runId: id,
      itemIds: z.array(id).min(1).max(100_000),
      mark: z.enum(['normal', 'anomaly']).nullable(),
    }),
  ]),
  'runs:retrain': z.tuple([
    z.strictObject({ runId: id, anomalyShare: z.number().min(0.001).max(0.9).optional() }),
  ]),
  'runs:prototypes': z.tuple([z.strictObject({ runId: id, count: z.number().int().min(1).max(64) })]),
  'runs:export': z.tuple([
    z.strictObject({ runId: id, format: z.enum(['cfdet', 'onnx', 'csv']), path: pathString }),
  ]),
  'jobs:cancel': z.tuple([z.strictObject({ jobId: z.string().regex(/^[a-z0-9-]{1,64}$/) })]),
};

/** Bounds on any call's raw arguments, whatever its schema (see the file comment). */
export const ARG_LIMITS = {
  /** values in all (every array item, object property and the tuple itself count) */
  values: 50_000,
  depth: 8,
  /** the longest string any schema takes (a path) */
  string: 4096,
  array: 10_000,
  keys: 64,
} as const;

/** What makes `args` exceed ARG_LIMITS, or null; stops at the first excess it meets. */
export function overLimits(args: unknown): string | null {
  let values = 0;
  const walk = (v: unknown, depth: number): string | null => {
    if (++values > ARG_LIMITS.values) return `more than ${ARG_LIMITS.values} values`;
    if (typeof v === 'string')
      return v.length > ARG_LIMITS.string ? `a text longer than ${ARG_LIMITS.string} characters` : null;
    if (v === null || typeof v !== 'object') return null;
    if (depth >= ARG_LIMITS.depth) return `nested deeper than ${ARG_LIMITS.depth} levels`;
    if (Array.isArray(v)) {
      if (v.length > ARG_LIMITS.array) return `a list of more than ${ARG_LIMITS.array} items`;
      for (const item of v) {
        const why = walk(item, depth + 1);
        if (why) return why;
      }
      return null;
    }
    const keys = Object.keys(v);
    if (keys.length > ARG_LIMITS.keys) return `an object with more than ${ARG_LIMITS.keys} fields`;
    for (const k of keys) {
      const why =
        k.length > 256
          ? 'a field name longer than 256 characters'
          : walk((v as Record<string, unknown>)[k], depth + 1);
      if (why) return why;
    }
    return null;
  };
  return walk(args, 0);
}

/** `schema`, after the budget check (an oversized call never reaches the schema). */
function bounded(schema: z.ZodType<unknown[]>): z.ZodType<unknown[]> {
  return z
    .unknown()
    .check((ctx) => {
      const why = overLimits(ctx.value);
      if (why) ctx.issues.push({ code: 'custom', message: `too large: ${why}`, input: null });
    })
    .pipe(schema);
}

export const ARG_SCHEMAS = Object.fromEntries(
  Object.entries(CHANNEL_SCHEMAS).map(([channel, schema]) => [channel, bounded(schema)]),
) as Record<IpcInvokeChannel, z.ZodType<unknown[]>>;
