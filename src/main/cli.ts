/**
 * `cfstudio`: the command line over the same engine the desktop app uses.
 *   cfstudio info [model.cfdet]
 *   cfstudio dataset add FOLDER --name deer           (scan, hash, report unreadable files)
 *   cfstudio extractor add MODEL.onnx --name moco      (an ONNX image model + its input spec)
 *   cfstudio extract deer --extractor moco              (resumable, cached by image content)
 *   cfstudio train --inliers deer|data.csv --contrast DATASET|permutation --method cf --out m.cfdet
 *   cfstudio score --model m.cfdet --input FOLDER|data.csv --out ranked.csv
 *   cfstudio eval [tabular] --data table.csv --label-column label --methods cf,flow,ratio,…
 *   cfstudio eval one-vs-rest --data cifar10/test --train cifar10/train --contrast cifar10/train
 *   cfstudio runs list | runs show RUN
 *   cfstudio export --model m.cfdet --format onnx [--with-extractor] --out m.onnx
 *   cfstudio import m.cfdet                              (a detector file back into a workspace)
 * Every input is validated here (cli/ holds the commands); errors print what failed and what
 * to do, without a stack. Image commands keep their state in a SQLite workspace (--workspace).
 */
import { Command, Option } from 'commander';
import fs from 'node:fs';
import { DEVICES, METHODS, type Method } from './engine/studio';
import { CancelledError, hintFor, UserError } from './engine/util/errors';
import { appVersion } from './engine/util/version';
import {
  cmdDatasetAdd,
  cmdDatasetList,
  cmdDatasetRemove,
  cmdDatasetShow,
  cmdExtract,
  cmdExtractorAdd,
  cmdExtractorList,
} from './cli/datasetCommands';
import { cmdEvalDatasetVsDataset, cmdEvalOneVsRest, cmdEvalTable } from './cli/evalCommands';
import { cmdExport, cmdImport } from './cli/exportCommands';
import { CLI_HINTS } from './cli/hints';
import { cmdInfo } from './cli/infoCommand';
import { addModelOptions, intArg, methodListArg, numArg } from './cli/options';
import { cmdRetrain } from './cli/retrainCommand';
import { cmdRunsList, cmdRunsPrototypes, cmdRunsShow } from './cli/runCommands';
import { cmdScoreImages, cmdScoreTable, cmdTrainImages, cmdTrainTable } from './cli/trainCommands';

export function buildProgram(signal: AbortSignal): Command {
  // exitOverride before the subcommands exist: commander copies it to each at creation, so a
  // bad option value exits through main() with code 2 instead of process.exit(1)
  const program = new Command('cfstudio')
    .exitOverride()
    .description('Contrastive normalizing flows for anomaly detection (CF Studio command line)')
    .version(appVersion())
    .showHelpAfterError('(run with --help for usage)');
  const ws = (c: Command) =>
    c
      .option(
        '--workspace <file>',
        'SQLite workspace (default: in the user data folder, or $CFSTUDIO_WORKSPACE)',
      )
      .addOption(
        new Option(
          '--device <device>',
          'where ONNX Runtime extracts, scores and trains (default: auto = a GPU provider that can run here, else the CPU; or $CFSTUDIO_DEVICE)',
        ).choices(DEVICES),
      );
  // the device reaches every session, worker threads included, through the environment
  program.hook('preAction', (_program, action) => {
    const device = action.opts().device as string | undefined;
    if (device) process.env.CFSTUDIO_DEVICE = device;
  });
  // a table file (existing, or named like one so that a typo gets "file not found"), else images
  const isTable = (p: string) => {
    if (/\.(csv|tsv|txt|npy)$/i.test(p)) return true;
    try {
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  };

  program
    .command('info')
    .description('show the training backend in use (and why others failed), or the metadata of a model file')
    .argument('[model]', 'a .cfdet model file, or an exported .onnx model (prints its metadata)')
    .option('--json', 'print JSON')
    .addOption(
      new Option('--device <device>', 'the device to report on (as --device of the other commands)').choices(
        DEVICES,
      ),
    )
    .action((model, o) => cmdInfo(model, o));

  const dataset = program.command('dataset').description('image folders in the workspace');
  ws(
    dataset
      .command('add')
      .description(
        'scan a folder (recursively; subfolder = label), hash every image, report unreadable files',
      )
      .argument('<folder>', 'image folder')
      .option('--name <name>', 'dataset name (default: the folder name)')
      .option('--json', 'print JSON')
      .option('-q, --quiet', 'no progress output'),
  ).action((folder, o) => cmdDatasetAdd(folder, o, signal));
  ws(dataset.command('list').description('datasets of the workspace').option('--json', 'print JSON')).action(
    (o) => cmdDatasetList(o),
  );
  ws(
    dataset
      .command('show')
      .description('labels, feature coverage and unreadable files of a dataset')
      .argument('<name>')
      .option('--json', 'print JSON'),
  ).action((name, o) => cmdDatasetShow(name, o));
  ws(dataset.command('remove').description('remove a dataset (not its files)').argument('<name>')).action(
    (name, o) => cmdDatasetRemove(name, o),
  );

  const extractor = program.command('extractor').description('feature extractors (ONNX image models)');
  ws(
    extractor
      .command('add')
      .description(
        'register an ONNX image model; its input spec comes from --spec, MODEL.json, its metadata, the catalog, or its input shape',
      )
      .argument(
        '<model>',
        '.onnx file, or a catalog id (see: cfstudio extractor list --catalog) — downloaded and checked',
      )
      .option('--name <name>', 'name to refer to it by (default: catalog id or file name)')
      .option('--spec <file>', 'input spec JSON (size, layout, scale, mean/std, output name)')
      .option('-q, --quiet', 'no notes'),
  ).action((model, o) => cmdExtractorAdd(model, o, signal));
  ws(
    extractor
      .command('list')
      .description('extractors of the workspace (or --catalog: the models CF Studio knows)')
      .option('--catalog', 'list the catalog instead')
      .option('--json', 'print JSON'),
  ).action((o) => cmdExtractorList(o));

  ws(
    program
      .command('extract')
      .description('compute missing features of a dataset (cached by image content; resumable; Ctrl-C safe)')
      .argument('<dataset>', 'dataset name or image folder')
      .option('--extractor <ref>', 'extractor name, .onnx file or catalog id (default: the only one)')
      .option('--batch <n>', 'images per model batch (default 64)', intArg('--batch', 1, 4096))
      .option('--json', 'print JSON')
      .option('-q, --quiet', 'no progress output'),
  ).action((d, o) => cmdExtract(d, o, signal));

  addModelOptions(
    ws(
      program
        .command('train')
        .description(
          'train a detector and save it as a .cfdet file (tables: CSV/.npy; images: folder or dataset)',
        )
        .requiredOption('--inliers <data>', 'CSV/.npy table, image folder, or dataset NAME[:label,…]')
        .option(
          '--contrast <data>',
          "contrast data: same kind as the inliers; 'permutation' (column-shuffled inliers) for tables",
        )
        .requiredOption('--out <file>', 'where to write the model (.cfdet)')
        .option(
          '--label-column <name>',
          'tables: label column to exclude from the features; rows with label ≠ 0 are not trained on',
        )
        .option('--extractor <ref>', 'images: extractor name, .onnx file or catalog id')
        .option(
          '--fpr <x>',
          'images: the threshold saved with the model, at this target false-positive rate on the held-out inliers (default 0.05)',
          numArg('--fpr', 0, 1),
        )
        .option(
          '--contamination <x>',
          'images: the same as --fpr, PyOD-style: the share of the inliers you accept as flagged',
          numArg('--contamination', 0, 0.5),
        )
        .option('--json', 'print a JSON summary of the trained model')
        .option('-q, --quiet', 'no progress output'),
    ),
  ).action((o) => {
    if (o.fpr !== undefined && o.contamination !== undefined)
      throw new UserError('give --fpr or --contamination, not both', 'see: cfstudio train --help');
    if (!isTable(o.inliers)) return cmdTrainImages(o, signal);
    if (o.fpr !== undefined || o.contamination !== undefined)
      throw new UserError(
        '--fpr and --contamination pick a threshold on held-out inlier images; a table detector is trained on all its rows',
        'score with --contamination, or train on images',
      );
    return cmdTrainTable(o, signal);
  });

  ws(
    program
      .command('score')
      .description('score rows or images with a trained detector (higher = more anomalous)')
      .option('--model <file>', 'a .cfdet model file')
      .option(
        '--run <id>',
        'images: or a run of the workspace (the list is recorded as a score run of its detector)',
        intArg('--run', 1),
      )
      .requiredOption('--input <data>', 'CSV/.npy with the training columns, or an image folder / dataset')
      .requiredOption(
        '--out <file>',
        'CSV to write (tables: row order; images: ranked, most anomalous first)',
      )
      .option('--label-column <name>', 'tables: label column to exclude (reported AUROC when present)')
      .option('--top <n>', 'images: how many of the most anomalous to print', intArg('--top', 0), 5)
      .option(
        '--fpr <x>',
        "is_anomaly at this target false-positive rate on the detector's held-out inliers (default: its own threshold)",
        numArg('--fpr', 0, 1),
      )
      .option(
        '--contamination <x>',
        'is_anomaly for the top share x of the scored data (PyOD-style: the share of anomalies you expect)',
        numArg('--contamination', 0.0001, 0.5),
      )
      .option('-q, --quiet', 'no progress output'),
  ).action((o) => {
    if (o.fpr !== undefined && o.contamination !== undefined)
      throw new UserError('give --fpr or --contamination, not both', 'see: cfstudio score --help');
    if (!o.model === (o.run === undefined))
      throw new UserError(
        'score needs exactly one of --model FILE.cfdet and --run ID',
        'see: cfstudio score --help',
      );
    if (isTable(o.input)) {
      if (!o.model) throw new UserError('tables are scored with a detector file', 'pass --model FILE.cfdet');
      return cmdScoreTable(o);
    }
    return cmdScoreImages(o, signal);
  });

  addModelOptions(
    ws(
      program
        .command('eval')
        .description(
          "the paper's protocols: tabular (default; --data table.csv --label-column), one-vs-rest (labelled image folders), dataset-vs-dataset",
        )
        .argument('[protocol]', 'tabular | one-vs-rest | dataset-vs-dataset', 'tabular')
        .option(
          '--data <data>',
          'tabular: labelled CSV; one-vs-rest: the labelled test images (folder or dataset)',
        )
        .option('--label-column <name>', 'tabular: label column (0 = normal, 1 = anomaly)')
        .option('--train <data>', 'one-vs-rest: labelled training images (default: --data)')
        .option('--contrast <data>', 'image protocols: contrast images (one-vs-rest default: --train)')
        .option('--classes <list>', 'one-vs-rest: inlier classes to evaluate (default: all)')
        .option('--matrix', "one-vs-rest: also print the paper's Table 2 matrix per method")
        .option('--inliers <data>', 'dataset-vs-dataset: inlier images')
        .option(
          '--inlier-test <data>',
          'dataset-vs-dataset: held-back inlier test images (default: 20 % of --inliers)',
        )
        .option('--anomalies <data>', 'dataset-vs-dataset: anomaly images')
        .option('--extractor <ref>', 'image protocols: extractor name, .onnx file or catalog id')
        .option('--methods <list>', `comma-separated: ${METHODS.join(',')}`, methodListArg, [
          'cf',
          'flow',
          'ratio',
          'mse',
          'knn',
          'kde',
          'pca',
        ] as Method[])
        .option(
          '--seeds <n>',
          'tabular: number of seeds (splits) to average over',
          intArg('--seeds', 1, 100),
          3,
        )
        .option(
          '--train-share <x>',
          'tabular: share of normal rows that train (default 0.6)',
          numArg('--train-share', 0.01, 0.99),
        )
        .option('--json <file>', 'also write the results as JSON')
        .option('-q, --quiet', 'no progress output'),
    ),
    false,
  ).action((protocol: string, o) => {
    const need = (k: string, flag: string) => {
      if (!o[k]) throw new UserError(`eval ${protocol} needs ${flag}`, 'see: cfstudio eval --help');
    };
    if (protocol === 'tabular') {
      need('data', '--data FILE');
      need('labelColumn', '--label-column NAME');
      return cmdEvalTable(o, signal);
    }
    if (protocol === 'one-vs-rest') {
      need('data', '--data (labelled test images)');
      return cmdEvalOneVsRest(o, signal);
    }
    if (protocol === 'dataset-vs-dataset') {
      need('inliers', '--inliers');
      need('anomalies', '--anomalies');
      need('contrast', '--contrast');
      return cmdEvalDatasetVsDataset(o, signal);
    }
    throw new UserError(`unknown protocol '${protocol}'`, 'use tabular, one-vs-rest or dataset-vs-dataset');
  });

  ws(
    program
      .command('export')
      .description(
        'write a detector as a standalone ONNX model (features or, --with-extractor, images → score, log_prob) or as a .cfdet file',
      )
      .option('--model <file>', 'a .cfdet model file')
      .option('--run <id>', 'or: a run of the workspace (trained or imported)', intArg('--run', 1))
      .option('--format <format>', 'onnx | cfdet', 'onnx')
      .option('--with-extractor', 'onnx: fuse the image extractor in front (input: the image tensor)')
      .option(
        '--extractor <ref>',
        'with --with-extractor: the extractor .onnx file or workspace name (default: found by sha256)',
      )
      .requiredOption('--out <file>', 'file to write')
      .option('--json', 'print JSON')
      .option('-q, --quiet', 'no notes'),
  ).action((o) => cmdExport(o));
  ws(
    program
      .command('import')
      .description('import a .cfdet detector file into the workspace as a finished run')
      .argument('<file>', 'a .cfdet file')
      .option('--name <name>', 'run name (default: "imported FILE")')
      .option('--json', 'print JSON')
      .option('-q, --quiet', 'no notes'),
  ).action((file, o) => cmdImport(file, o));

  ws(
    program
      .command('retrain')
      .description(
        "retrain a run's detector with feedback: marked normals join the inliers, confirmed anomalies the contrast set; prints before/after",
      )
      .argument('<run>', 'the run whose detector to retrain', intArg('run', 1))
      .option('--normal <refs...>', 'false alarms: image files, folders or datasets (NAME[:labels])')
      .option('--anomalous <refs...>', 'confirmed anomalies: image files, folders or datasets')
      .option(
        '--share <x>',
        'share of the contrast rows made of confirmed anomalies (default 0.25)',
        numArg('--share', 0.01, 0.9),
      )
      .option('--out <file>', 'also write the new detector (.cfdet)')
      .option('--json', 'print JSON')
      .option('-q, --quiet', 'no progress output'),
  ).action((id, o) => cmdRetrain(id, o, signal));

  const runs = program.command('runs').description('recorded training and evaluation runs');
  ws(
    runs
      .command('list')
      .description('runs of the workspace (evaluations and single trainings; --all includes per-class runs)')
      .option('--all', 'include runs that belong to an evaluation')
      .option('--json', 'print JSON'),
  ).action((o) => cmdRunsList(o));
  ws(
    runs
      .command('show')
      .description("a run's data, metrics and the paper's Figure 5 picks")
      .argument('<run>', 'run id', intArg('run', 1))
      .option('--json', 'print JSON'),
  ).action((id, o) => cmdRunsShow(id, o));
  ws(
    runs
      .command('prototypes')
      .description(
        "what a run's detector thinks is normal: samples of its flow and their nearest real images",
      )
      .argument('<run>', 'run id', intArg('run', 1))
      .option('--count <n>', 'samples (default 12)', intArg('--count', 1, 256))
      .option(
        '--temperature <t>',
        'latent scale T of z ~ N(0, T²·I) (default 0.6)',
        numArg('--temperature', 0.05, 2),
      )
      .option('--json', 'print JSON'),
  ).action((id, o) => cmdRunsPrototypes(id, o));

  return program;
}

/** Runs the CLI; returns the exit code (0 ok, 1 internal error, 2 user error, 130 cancelled). */
export async function main(argv: string[]): Promise<number> {
  const ac = new AbortController();
  const onSigint = () => {
    if (ac.signal.aborted) process.exit(130);
    process.stderr.write('\ncancelling… (Ctrl-C again to quit at once)\n');
    ac.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    await buildProgram(ac.signal).parseAsync(argv);
    return 0;
  } catch (e) {
    const err = e as { code?: string; exitCode?: number };
    if (typeof err.code === 'string' && err.code.startsWith('commander.')) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2;
    }
    if (e instanceof CancelledError) {
      process.stderr.write(`${e.message}; nothing was written\n`);
      return 130;
    }
    if (e instanceof UserError) {
      const hint = hintFor(e, CLI_HINTS);
      process.stderr.write(`error: ${e.message}\n${hint ? `  fix: ${hint}\n` : ''}`);
      return 2;
    }
    process.stderr.write(
      `internal error: ${(e as Error).message}\n${process.env.CFSTUDIO_DEBUG ? (e as Error).stack + '\n' : '  (set CFSTUDIO_DEBUG=1 for details; please report it)\n'}`,
    );
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
