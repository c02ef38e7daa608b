// Worker bootstrap for running from TypeScript source (CLI via tsx, tests): registers tsx's
// loader inside the worker thread, then loads the real worker entry named in workerData.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.tsEntry);
