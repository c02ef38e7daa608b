#!/usr/bin/env node
// `cfstudio` command line: runs the TypeScript engine through tsx (no build step needed).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main/cli.ts');
process.exitCode = await main(process.argv);
