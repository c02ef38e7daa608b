/**
 * What the command line advises for each coded engine error (engine/util/errors.ts): commands
 * and flags with the real names and paths from the error's data. The app has its own table
 * (src/main/ipc/hints.ts) in its own words.
 */
import type { HintTable } from '../engine/util/errors';

const list = (xs: readonly string[], empty = '(none)') => (xs.length ? xs.join(', ') : empty);

export const CLI_HINTS: HintTable = {
  'data-ref-unknown': (d) =>
    d.folder
      ? `to use the folder, write it as a path: ./${d.ref}`
      : d.known.length
        ? `datasets here: ${list(d.known)} (e.g. ${d.known[0]}, or some of its labels: ${d.known[0]}:label1,label2); a folder is written as a path (./folder)`
        : `add one with: cfstudio dataset add FOLDER --name ${d.ref}, or pass a folder path (./folder)`,
  'path-not-found': () =>
    'check the path (a dataset name has no slashes; list them with: cfstudio dataset list)',
  'dataset-missing': () => 'list the datasets with: cfstudio dataset list',
  'dataset-no-images': (d) => `check the folder with: cfstudio dataset show ${d.dataset}`,
  'dataset-name-taken': (d) =>
    `pick another --name, or remove the old dataset first: cfstudio dataset remove ${d.name}`,
  'label-unknown': (d) =>
    `labels of ${d.dataset} (subfolder names): ${list(d.known, '(none: the images are not in subfolders)')}; quote a label that holds a comma: ${d.dataset}:"a,b"`,
  'run-missing': () => 'list the runs with: cfstudio runs list --all',
  'run-no-model': () => 'pick a finished training run (cfstudio runs list)',
  'run-no-held-out': () =>
    'train the detector on a workspace dataset (cfstudio train holds out 10 % of the inlier images to pick a threshold)',
  'run-follows-parent': (d) => `set the threshold on run ${d.parentRunId}; this list follows it`,
  'item-not-scored': (d) => `list what run ${d.runId} scored: cfstudio runs show ${d.runId}`,
  'extractor-none': () =>
    'add one: cfstudio extractor add MODEL.onnx --name moco (or pass --extractor FILE.onnx)',
  'extractor-ambiguous': (d) => `use --extractor with one of: ${list(d.names)}`,
  'extractor-unknown': (d) =>
    `workspace extractors: ${list(d.known)}; add a model with: cfstudio extractor add MODEL.onnx`,
  'extractor-id-missing': () => 'list the extractors with: cfstudio extractor list',
  'extractor-file-gone': (d) =>
    `put it back, or register it again from its new place: cfstudio extractor add FILE.onnx --name ${d.name}`,
  'extractor-name-taken': () => 'pick another --name',
  'extractor-not-in-workspace': (d) =>
    `add that model file: cfstudio extractor add FILE.onnx --name ${d.name} (its sha256 must be ${d.sha256.slice(0, 12)}…)`,
  'method-needs-contrast': () =>
    'add --contrast FOLDER or --contrast DATASET (tables: --contrast FILE or --contrast permutation), or choose a method without contrast (--method flow, knn, …)',
  'permutation-contrast-on-images': () => 'pass a broad folder of other images: --contrast FOLDER',
  'too-few-inliers': () => 'use a folder with more images (hundreds are better)',
  'method-not-exportable': () =>
    'train a flow method (--method cf, flow, ratio or oe) to export it, or keep scoring this one with: cfstudio score',
  'detector-not-for-images': () =>
    'export it without --with-extractor (the model then takes feature rows), or score a CSV/.npy file with the same columns',
  'output-folder-missing': (d) => `create ${d.folder} first, or choose another --out path`,
  'workspace-foreign': () => 'choose another --workspace file (a new path creates an empty workspace)',
  'workspace-newer': () => 'update CF Studio to open this workspace, or choose another --workspace file',
  'auto-eps-too-few-held-out': () => 'use a fixed ε (--eps 0) or more inlier rows',
  'run-not-retrainable': () =>
    'retrain a detector trained on workspace images (cfstudio runs list shows them)',
  'no-feedback': (d) =>
    `name the images: cfstudio retrain ${d.runId} --normal FILES|FOLDER --anomalous FILES|FOLDER`,
};
