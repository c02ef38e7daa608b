/**
 * What the desktop app advises for each coded engine error (engine/util/errors.ts), in the app's
 * own words: pages, buttons and pickers, with the real names from the error's data. The command
 * line has its own table (src/main/cli/hints.ts).
 */
import type { HintTable } from '../engine/util/errors';

export const APP_HINTS: HintTable = {
  'data-ref-unknown': (d) =>
    `choose one of the workspace's datasets${d.known.length ? ` (${d.known.join(', ')})` : ''}, or drop a folder`,
  'path-not-found': () => 'drop or pick the folder again; it may have been moved',
  'dataset-missing': () => 'it may have been removed; pick another dataset from the list',
  'dataset-no-images': (d) => `open ${d.dataset} on the New detector page to see why its files were skipped`,
  'dataset-name-taken': (d) =>
    `another folder is already called "${d.name}"; remove that dataset first or rename the folder`,
  'label-unknown': (d) => `choose among the labels of ${d.dataset}: ${d.known.join(', ') || '(none)'}`,
  'run-missing': () => 'it may have been removed; pick one from the Runs list',
  'run-no-model': () => 'pick a finished training run from the Runs list',
  'run-no-held-out': () =>
    'train the detector in the app: it holds out 10 % of the inlier images to pick a threshold',
  'run-follows-parent': (d) => `set the threshold on run ${d.parentRunId}; this list follows it`,
  'item-not-scored': () => 'pick an image from this run’s gallery',
  'extractor-none': () => 'choose Import .onnx… on the New detector page',
  'extractor-ambiguous': () => 'choose an extractor on the New detector page',
  'extractor-unknown': () => 'choose an extractor from the list, or Import .onnx…',
  'extractor-id-missing': () => 'choose an extractor from the list, or Import .onnx…',
  'extractor-file-gone': (d) =>
    `put the file back, or use Import .onnx… to register "${d.name}" from its new place`,
  'extractor-name-taken': () => 'import it under another name',
  'extractor-not-in-workspace': (d) =>
    `use Import .onnx… with the model file of extractor "${d.name}" (sha256 ${d.sha256.slice(0, 12)}…)`,
  'method-needs-contrast': (d) =>
    `pick a broad contrast folder (or a workspace dataset) for ${d.label}, or choose a method without contrast (Flow, KNN, …)`,
  'permutation-contrast-on-images': () => 'pick a broad folder of other images as contrast',
  'too-few-inliers': () => 'drop a folder with more images (hundreds are better)',
  'method-not-exportable': (d) =>
    `${d.label} detectors have no ONNX export; export the .cfdet bundle, or train a flow method (CF, Flow, Flow-ratio, OE)`,
  'detector-not-for-images': () => 'this detector takes table features; score it with the command line',
  'output-folder-missing': () => 'choose another place to save',
  'workspace-foreign': () => 'choose another workspace file (a new path creates an empty workspace)',
  'workspace-newer': () => 'update CF Studio to open this workspace, or choose another workspace file',
  'auto-eps-too-few-held-out': () => 'use a fixed ε (0) or more inlier images',
  'run-not-retrainable': () => 'retrain a detector that was trained in this workspace',
  'no-feedback': () =>
    'mark false alarms with N and confirmed anomalies with A in the gallery (or in an image’s detail), then retrain',
};
