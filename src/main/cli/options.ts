/**
 * Option parsers and the flow/method options shared by the CLI's commands: every value is
 * validated here, at the edge, so the engine can trust its inputs.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { isMethod, METHODS, type Method, type TrainOptions } from '../engine/studio';

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

/** The flags of `addModelOptions`: the method and the training settings (named as TrainOptions). */
export interface ModelOpts extends TrainOptions {
  method: Method;
}

export function addModelOptions(cmd: Command, withMethod = true): Command {
  if (withMethod)
    cmd.addOption(
      new Option('--method <m>', `method: ${METHODS.join(', ')}`).argParser(methodArg).default('cf'),
    );
  return cmd
    .option(
      '--steps <n>',
      'training steps (default: by the inlier-count rule, ≈ 300 epochs, 300–2,000)',
      intArg('--steps', 1, 10_000_000),
    )
    .option(
      '--hidden <n>',
      'hidden width H of each coupling subnet (default: by the inlier-count rule, 128)',
      intArg('--hidden', 1, 8192),
    )
    .option(
      '--blocks <n>',
      'coupling blocks (default: by the inlier-count rule, 4)',
      intArg('--blocks', 1, 64),
    )
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
    .option(
      '--noise <x>',
      "σ of training noise added to features (default: by the inlier-count rule, 0.1–1.9× the features' spread)",
      numArg('--noise', 0, 10),
    )
    .option(
      '--eps <x>',
      "CF clamp ε: a number, or 'auto' (plain flow first, quantile of held-out log p + offset); default: tracking the held-out inliers (the inlier-count rule)",
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
    )
    .option(
      '--weight-decay <x>',
      "decoupled weight decay of the coupling subnets' weights (default 0)",
      numArg('--weight-decay', 0, 1),
    )
    .addOption(
      new Option(
        '--sizing <rule>',
        "how unset flow settings are chosen: 'inlier-count' (by the number of training inliers) or 'none' (fixed: H=512, 8 blocks, 1,000 steps, σ=0.01, ε=0)",
      ).choices(['inlier-count', 'none']),
    );
}

/** The training settings among a command's parsed options (the flags carry TrainOptions' names). */
export function trainOptionsOf(o: ModelOpts): TrainOptions {
  const rest = o as unknown as Record<string, unknown>;
  const keys: (keyof TrainOptions)[] = [
    'steps',
    'hidden',
    'blocks',
    'clamp',
    'batch',
    'lr',
    'clip',
    'noise',
    'eps',
    'epsQuantile',
    'epsOffset',
    'seed',
    'patience',
    'preprocess',
    'k',
    'oeSteps',
    'weightDecay',
    'sizing',
  ];
  return Object.fromEntries(
    keys.filter((k) => rest[k] !== undefined).map((k) => [k, rest[k]]),
  ) as TrainOptions;
}
