/**
 * Seeded row splits. `tabularProtocolSplit` is the paper's tabular protocol: a random share
 * of the normal rows (label 0) trains; the remaining normal rows plus all anomalies
 * (label ≠ 0) are the test set. `holdOut` sets aside a random share of rows (e.g. validation).
 * Index arrays are returned in ascending order; which rows land where depends only on the seed.
 */
import { Rng } from '../util/rng';
import { UserError } from '../util/errors';

export interface ProtocolSplit {
  /** Indices of the training rows (all normal). */
  train: Int32Array;
  /** Indices of the test rows (held-back normals and all anomalies). */
  testIdx: Int32Array;
  /** labels[testIdx], same order. */
  testLabels: Float32Array;
}

function checkShare(share: number, name: string, allowZero: boolean): void {
  if (!(Number.isFinite(share) && (allowZero ? share >= 0 : share > 0) && share < 1)) {
    throw new UserError(
      `${name} must be ${allowZero ? 'at least 0' : 'greater than 0'} and less than 1, got ${share}`,
      `Pass a fraction such as 0.6 (60 %).`,
    );
  }
}

function sorted(a: Int32Array): Int32Array {
  return a.sort();
}

/** Split labelled rows per the tabular protocol; `source` names the data in messages. */
export function tabularProtocolSplit(
  labels: Float32Array,
  trainShare = 0.6,
  seed = 0,
  source = 'the labelled data',
): ProtocolSplit {
  checkShare(trainShare, 'The training share', false);
  const normal: number[] = [];
  const anomalous: number[] = [];
  for (let i = 0; i < labels.length; i++) (labels[i] === 0 ? normal : anomalous).push(i);
  const nTrain = Math.round(trainShare * normal.length);
  if (nTrain < 2) {
    throw new UserError(
      `${source} has ${normal.length} normal row${normal.length === 1 ? '' : 's'} (label 0); ${Math.round(trainShare * 100)} % of them is ${nTrain}, but at least 2 are needed to train`,
      'Use data with more normal rows, or a larger training share.',
    );
  }
  if (nTrain === normal.length) {
    throw new UserError(
      `${source} has only ${normal.length} normal rows (label 0): none would be left for testing`,
      'Use data with more normal rows, or a smaller training share.',
    );
  }
  if (anomalous.length === 0) {
    throw new UserError(
      `${source} has no anomalies (no row with label ≠ 0), so detection can't be evaluated`,
      'Check the label column: anomalies must be labelled 1, normal rows 0.',
    );
  }
  const perm = new Rng(seed).permutation(normal.length);
  const train = new Int32Array(nTrain);
  for (let i = 0; i < nTrain; i++) train[i] = normal[perm[i]];
  const testIdx = new Int32Array(normal.length - nTrain + anomalous.length);
  let k = 0;
  for (let i = nTrain; i < normal.length; i++) testIdx[k++] = normal[perm[i]];
  for (const i of anomalous) testIdx[k++] = i;
  sorted(train);
  sorted(testIdx);
  const testLabels = new Float32Array(testIdx.length);
  for (let i = 0; i < testIdx.length; i++) testLabels[i] = labels[testIdx[i]];
  return { train, testIdx, testLabels };
}

/**
 * Set aside round(n·share) random rows (at least 1 when share > 0 and n ≥ 2) as `held`;
 * the rest are `train`. Both ascending.
 */
export function holdOut(n: number, share: number, rng: Rng): { train: Int32Array; held: Int32Array } {
  checkShare(share, 'The held-out share', true);
  let nHeld = Math.round(n * share);
  if (share > 0 && nHeld === 0 && n >= 2) nHeld = 1;
  if (nHeld >= n) nHeld = n - 1;
  if (nHeld < 0) nHeld = 0;
  const perm = rng.permutation(n);
  const held = sorted(perm.slice(0, nHeld));
  const train = sorted(perm.slice(nHeld));
  return { train, held };
}
