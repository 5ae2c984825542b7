#!/usr/bin/env node
// Runs the TypeScript CLI through tsx so `npx fleetwake` always matches the checked-out source.
import { register } from 'tsx/esm/api';

register();
await import('../main/cli/index.ts');
