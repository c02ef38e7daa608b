/**
 * Worker-thread entry of a training job: runs fitDetector off the caller's thread and returns
 * the detector as .cfdet bytes (one transferable buffer instead of a deep clone of the params).
 */
import { fitDetector } from '../detector/fitDetector';
import { encodeDetector } from '../model/cfdet';
import { serveJob } from './serveJob';
import type { TrainJobInput } from './runTrainJob';
import type { TrainProgress } from '../train/trainer';

serveJob<TrainJobInput, TrainProgress, Uint8Array>(
  async (m, ctx) => {
    const det = await fitDetector(m.input, m.config, {
      signal: ctx.signal,
      appVersion: m.appVersion,
      onProgress: (p) => ctx.progress(p, p.step === p.totalSteps),
    });
    return new Uint8Array(encodeDetector(det));
  },
  { transfer: (r) => [r.buffer as ArrayBuffer] },
);
