/**
 * Worker-thread entry of a training job: runs fitDetector off the caller's thread, streams
 * progress, honours a cancel message, and returns the detector as .cfdet bytes.
 */
import { parentPort } from 'node:worker_threads';
import { fitDetector } from '../detector/fitDetector';
import { encodeDetector } from '../model/cfdet';
import { CancelledError, UserError } from '../util/errors';
import type { FromWorker, ToWorker } from './trainJobProtocol';

const port = parentPort;
if (!port) throw new Error('trainWorker must run in a worker thread');
const ac = new AbortController();
const send = (m: FromWorker) => port.postMessage(m);

port.on('message', async (m: ToWorker) => {
  if (m.type === 'cancel') {
    ac.abort();
    return;
  }
  try {
    let last = 0;
    const det = await fitDetector(m.input, m.config, {
      signal: ac.signal,
      appVersion: m.appVersion,
      onProgress: (progress) => {
        const now = Date.now();
        // at most ~10 messages/s: enough for a live chart, cheap for the caller
        if (progress.step === progress.totalSteps || now - last >= 100) {
          last = now;
          send({ type: 'progress', progress });
        }
      },
    });
    send({ type: 'done', detector: new Uint8Array(encodeDetector(det)) });
  } catch (e) {
    if (e instanceof CancelledError) send({ type: 'error', kind: 'cancelled', message: e.message });
    else if (e instanceof UserError) send({ type: 'error', kind: 'user', message: e.message, hint: e.hint });
    else send({ type: 'error', kind: 'internal', message: (e as Error).message, stack: (e as Error).stack });
  }
});
