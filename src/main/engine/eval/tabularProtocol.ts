/**
 * The paper's tabular protocol (Fig. 9, ADBench): per seed, a random 60 % of the normal rows
 * train; the other normal rows plus all anomalies test. Each method is trained on the same
 * split (permutation contrast for the contrastive ones) and scored by AUROC.
 */
import { fitDetector, type DetectorConfig, type FitOptions } from '../detector/fitDetector';
import { CONTRAST_METHODS, type Method } from '../detector/methods';
import { scoreDetector } from '../detector/scoreDetector';
import { tabularProtocolSplit } from '../data/split';
import type { Table } from '../data/table';
import { takeRows } from '../util/matrix';
import { auroc } from './auroc';
import { meanStd } from '../util/stats';

export interface MethodResult {
  method: Method;
  aurocs: number[];
  mean: number;
  std: number;
  seconds: number[];
  notes: string[];
  backend: string | null;
}

export interface ProtocolResult {
  source: string;
  rows: number;
  features: number;
  anomalies: number;
  trainShare: number;
  seeds: number[];
  methods: MethodResult[];
}

export async function runTabularProtocol(
  table: Table,
  methods: Method[],
  seeds: number[],
  configFor: (m: Method, seed: number) => DetectorConfig,
  opts: FitOptions & {
    trainShare?: number;
    onMethodDone?: (m: Method, seed: number, auroc: number) => void;
  } = {},
): Promise<ProtocolResult> {
  const labels = table.labels!;
  const trainShare = opts.trainShare ?? 0.6;
  const results = new Map<Method, MethodResult>();
  for (const m of methods)
    results.set(m, { method: m, aurocs: [], mean: NaN, std: NaN, seconds: [], notes: [], backend: null });
  for (const seed of seeds) {
    const split = tabularProtocolSplit(labels, trainShare, seed, table.source);
    const train = takeRows(table.x, split.train);
    const test = takeRows(table.x, split.testIdx);
    for (const m of methods) {
      const det = await fitDetector(
        {
          inliers: train,
          columns: table.columns,
          contrast: CONTRAST_METHODS.includes(m) ? 'permutation' : null,
          source: table.source,
        },
        configFor(m, seed),
        opts,
      );
      const { score } = await scoreDetector(det, test, table.source);
      const a = auroc(score, split.testLabels);
      const r = results.get(m)!;
      r.aurocs.push(a);
      r.seconds.push(det.meta.seconds);
      r.backend = det.meta.backend?.backend ?? r.backend;
      for (const n of det.meta.notes) if (!r.notes.includes(n)) r.notes.push(n);
      opts.onMethodDone?.(m, seed, a);
    }
  }
  for (const r of results.values()) {
    const s = meanStd(r.aurocs);
    r.mean = s.mean;
    r.std = s.std;
  }
  return {
    source: table.source,
    rows: table.x.rows,
    features: table.x.cols,
    anomalies: labels.reduce((a, b) => a + (b !== 0 ? 1 : 0), 0),
    trainShare,
    seeds,
    methods: [...results.values()],
  };
}
