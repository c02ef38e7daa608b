/**
 * Option parsers and the flow/method options shared by the CLI's commands: every value is
 * validated here, at the edge, so the engine can trust its inputs.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { defaultDetectorConfig, type DetectorConfig } from '../engine/detector/fitDetector';
import { isMethod, METHODS, type Method } from '../engine/detector/methods';
import type { PreprocessKind } from '../engine/detector/preprocess';

export function intArg(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
    return n;
  };
}
export function numArg(name: string, min = -Infinity, max = Infinity) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be a number from ${min} to ${max}`);
    return n;
  };
}
export function methodArg(v: string): Method {
  if (!isMethod(v)) throw new InvalidArgumentError(`unknown method '${v}'; use one of ${METHODS.join(', ')}`);
  return v;
}
export function methodListArg(v: string): Method[] {
  const list = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0) throw new InvalidArgumentError('give at least one method');
  return list.map(methodArg);
}
export function epsArg(v: string): number | 'auto' {
  if (v === 'auto') return 'auto';
  return numArg('--eps')(v);
}

export interface ModelOpts {
  method: Method;
  steps?: number;
  hidden?: number;
  blocks?: number;
  clamp?: number;
  batch?: number;
  lr?: number;
  clip?: number;
  noise?: number;
  eps?: number | 'auto';
  epsQuantile?: number;
  epsOffset?: number;
  seed?: number;
  patience?: number;
  preprocess?: PreprocessKind;
  k?: number;
  oeSteps?: number;
}

export function addModelOptions(cmd: Command, withMethod = true): Command {
  if (withMethod)
    cmd.addOption(
      new Option('--method <m>', `method: ${METHODS.join(', ')}`).argParser(methodArg).default('cf'),
    );
  return cmd
    .option('--steps <n>', 'training steps (default 1000)', intArg('--steps', 1, 10_000_000))
    .option(
      '--hidden <n>',
      'hidden width H of each coupling subnet (default 512)',
      intArg('--hidden', 1, 8192),
    )
    .option('--blocks <n>', 'coupling blocks (default 8)', intArg('--blocks', 1, 64))
    .option(
      '--clamp <x>',
      'soft clamp α of the log-scale, s = α·tanh(a/α) (default 2)',
      numArg('--clamp', 0.01, 100),
    )
    .option(
      '--batch <n>',
      'batch size for inliers and for contrast (default 256)',
      intArg('--batch', 2, 65536),
    )
    .option('--lr <x>', 'Adam learning rate, cosine-decayed (default 1e-3)', numArg('--lr', 1e-8, 1))
    .option('--clip <x>', 'gradient-norm clip (default 10)', numArg('--clip', 1e-6))
    .option('--noise <x>', 'σ of training noise added to features (default 0.01)', numArg('--noise', 0, 10))
    .option(
      '--eps <x>',
      "CF clamp ε: a number (default 0) or 'auto' (plain flow first, quantile of held-out log p + offset)",
      epsArg,
    )
    .option(
      '--eps-quantile <q>',
      'auto ε: quantile of held-out inlier log p (default 0.1)',
      numArg('--eps-quantile', 0, 1),
    )
    .option(
      '--eps-offset <x>',
      'auto ε: offset added to that quantile (default −ln 10)',
      numArg('--eps-offset'),
    )
    .option('--seed <n>', 'random seed (default 0)', intArg('--seed', 0, 2 ** 31 - 1))
    .option(
      '--patience <n>',
      'stop after n held-out evaluations without improvement (0 = off)',
      intArg('--patience', 0),
    )
    .addOption(
      new Option('--preprocess <p>', 'feature preprocessing').choices([
        'standardize',
        'median-iqr',
        'l2',
        'none',
      ]),
    )
    .option('--k <n>', 'KNN: neighbours (default 5)', intArg('--k', 1))
    .option(
      '--oe-steps <n>',
      'OE: fine-tuning steps after the plain flow (default steps/2)',
      intArg('--oe-steps', 1),
    );
}

export function buildConfig(o: ModelOpts, method: Method, defaultPreprocess: PreprocessKind): DetectorConfig {
  const c = defaultDetectorConfig(method, o.preprocess ?? defaultPreprocess);
  if (o.steps !== undefined) c.train.steps = o.steps;
  if (o.hidden !== undefined) c.flow.hidden = o.hidden;
  if (o.blocks !== undefined) c.flow.blocks = o.blocks;
  if (o.clamp !== undefined) c.flow.clamp = o.clamp;
  if (o.batch !== undefined) c.train.batchSize = o.batch;
  if (o.lr !== undefined) c.train.lr = o.lr;
  if (o.clip !== undefined) c.train.clipNorm = o.clip;
  if (o.noise !== undefined) c.train.noiseStd = o.noise;
  if (o.seed !== undefined) c.train.seed = o.seed;
  if (o.patience !== undefined) c.train.patience = o.patience;
  if (o.k !== undefined) c.baseline.k = o.k;
  c.oe.steps = o.oeSteps ?? Math.max(1, Math.round(c.train.steps / 2));
  if (o.eps === 'auto')
    c.eps = { mode: 'auto', quantile: o.epsQuantile ?? 0.1, offset: o.epsOffset ?? -Math.log(10) };
  else if (o.eps !== undefined) c.eps = { mode: 'fixed', value: o.eps };
  return c;
}
