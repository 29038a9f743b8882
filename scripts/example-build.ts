/**
 * Installs the job-monitor example's own dependencies (its package-lock.json, `npm ci`) when they
 * are missing or older than its lock file, then builds it: codegen from schema/schema.graphql
 * (typed documents and the trusted-documents manifest), typecheck, Vite. `npm test` runs this
 * before vitest, so the browser tests always drive the app as the current schema builds it;
 * the gateway's own dependencies and Docker image never include the example's.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../examples/job-monitor/', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const installed = `${dir}node_modules/.package-lock.json`;
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(`${dir}package-lock.json`).mtimeMs) {
  console.log('examples/job-monitor: npm ci');
  execFileSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit' });
}
execFileSync(npm, ['run', '--silent', 'build'], { cwd: dir, stdio: 'inherit' });
