/**
 * Runtime validation of every IPC call's arguments (the renderer is untrusted): one zod schema
 * per channel of src/shared/ipc.ts, for the argument tuple. Strict objects: unknown keys are refused.
 */
import { z } from 'zod';
import type { IpcInvokeChannel } from '../../shared/ipc';
import { METHODS } from '../engine/studio';

const id = z.number().int().positive();
const pathString = z.string().min(1).max(4096);
const name = z.string().trim().min(1).max(200);
const selection = z.strictObject({
  datasetId: id,
  labels: z.array(z.string().max(500)).max(10_000).nullable(),
});
const method = z.enum(METHODS);

const extractorSpec = z.strictObject({
  inputName: z.string().min(1),
  outputName: z.string().min(1),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  layout: z.string(),
  channelOrder: z.string(),
  scale: z.number(),
  mean: z.array(z.number()),
  std: z.array(z.number()),
  resize: z.string(),
  l2Normalize: z.boolean(),
});

export const trainRequestSchema = z.strictObject({
  name: name.optional(),
  method,
  inliers: selection,
  contrast: selection.nullable(),
  test: z
    .strictObject({ datasetId: id, inlierLabels: z.array(z.string().max(500)).min(1) })
    .nullable()
    .optional(),
  extractorId: id,
  steps: z.number().int().min(1).max(1_000_000),
  eps: z.union([z.number().finite(), z.literal('auto')]),
  hidden: z.number().int().min(4).max(4096),
  blocks: z.number().int().min(1).max(64),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1),
});

export const ARG_SCHEMAS: Record<IpcInvokeChannel, z.ZodType<unknown[]>> = {
  'app:info': z.tuple([]),
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
      offset: z.number().int().min(0),
      limit: z.number().int().min(1).max(1000),
      label: z.string().max(500).nullable().optional(),
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
      offset: z.number().int().min(0),
      limit: z.number().int().min(1).max(2000),
      group: z.string().max(500).nullable().optional(),
    }),
  ]),
  'runs:item': z.tuple([
    z.strictObject({ runId: id, itemId: id, neighbors: z.number().int().min(0).max(50) }),
  ]),
  'runs:setThreshold': z.tuple([z.strictObject({ runId: id, targetFpr: z.number().min(0).max(1) })]),
  'runs:remove': z.tuple([z.strictObject({ id })]),
  'runs:export': z.tuple([
    z.strictObject({ runId: id, format: z.enum(['cfdet', 'onnx', 'csv']), path: pathString }),
  ]),
  'jobs:cancel': z.tuple([z.strictObject({ jobId: z.string().regex(/^[a-z0-9-]{1,64}$/) })]),
};
