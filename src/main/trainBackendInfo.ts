/**
 * The training backend the engine will use, as the app shows it (`app:info`): asked once,
 * lazily (choosing may load ONNX Runtime or TensorFlow.js), then remembered.
 */
import { describeTrainBackend as describe } from './engine/backend/trainBackend';

let cached: Promise<{ name: string; detail: string } | null> | null = null;

export function describeTrainBackend(): Promise<{ name: string; detail: string } | null> {
  cached ??= describe()
    .then(({ name, detail }) => ({ name, detail }))
    .catch((e: unknown) => ({
      name: 'none',
      detail: `no training backend could start: ${(e as Error).message}`,
    }));
  return cached;
}
