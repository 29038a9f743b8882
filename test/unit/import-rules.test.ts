/**
 * The import rules of `.dependency-cruiser.cjs` (run by `npm run lint`): imports run only
 * downward through the rooms of src/. These tests run the same rules in-process, on the real
 * tree and on small trees with one planted violation each, so a rule that stops catching
 * anything fails here.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseResult, type IConfiguration } from 'dependency-cruiser';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const config = createRequire(import.meta.url)(path.join(root, '.dependency-cruiser.cjs')) as IConfiguration;

async function violationsIn(baseDir: string): Promise<Array<{ rule: string; from: string; to: string }>> {
  const result = await cruise(
    ['src'],
    { ruleSet: { forbidden: config.forbidden ?? [] }, validate: true, tsPreCompilationDeps: true, baseDir },
    { extensions: ['.ts', '.js'] },
  );
  const output = result.output as ICruiseResult;
  return output.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
}

const scratch: string[] = [];
afterAll(() => scratch.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A tree of `files` (path -> source) in a temporary folder. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'import-rules-'));
  scratch.push(dir);
  for (const [file, source] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), source);
  }
  return dir;
}

// dependency-cruiser reads the whole tree with TypeScript's resolver: 3 s of CPU, much longer on a loaded machine.
describe('the import rules', { timeout: 120_000 }, () => {
  it('find no violation in the tree as it is', async () => {
    expect(await violationsIn(root)).toEqual([]);
  });

  it('refuse the paging engine importing the GraphQL pipeline', async () => {
    const dir = tree({
      'src/pagination/engine.ts': "import type { Context } from '../graphql/context.js';\nexport type C = Context;\n",
      'src/graphql/context.ts': 'export interface Context { id: string }\n',
    });
    expect(await violationsIn(dir)).toEqual([{ rule: 'no-upward-from-pagination', from: 'src/pagination/engine.ts', to: 'src/graphql/context.ts' }]);
  });

  it('refuse the upstream client importing observability, which sits above it', async () => {
    const dir = tree({
      'src/upstream/client.ts': "import { metrics } from '../observability/metrics.js';\nexport const m = metrics;\n",
      'src/observability/metrics.ts': 'export const metrics = {};\n',
    });
    expect(await violationsIn(dir)).toEqual([{ rule: 'no-upward-from-upstream', from: 'src/upstream/client.ts', to: 'src/observability/metrics.ts' }]);
  });

  it('refuse live updates importing a transport', async () => {
    const dir = tree({
      'src/live/feed.ts': "import { ws } from '../transports/ws.js';\nexport const w = ws;\n",
      'src/transports/ws.ts': 'export const ws = 1;\n',
    });
    expect(await violationsIn(dir)).toEqual([{ rule: 'no-upward-from-live', from: 'src/live/feed.ts', to: 'src/transports/ws.ts' }]);
  });

  it('refuse the simulator importing gateway code other than the SPP wire types', async () => {
    const dir = tree({
      'src/simulator/http.ts':
        "import type { Row } from '../spp-api/types.js';\nimport { codec } from '../pagination/cursor.js';\nexport const x: Row | typeof codec = codec;\n",
      'src/spp-api/types.ts': 'export interface Row { id: string }\n',
      'src/pagination/cursor.ts': 'export const codec = { id: "1" };\n',
    });
    expect(await violationsIn(dir)).toEqual([
      { rule: 'simulator-imports-nothing-of-the-gateway', from: 'src/simulator/http.ts', to: 'src/pagination/cursor.ts' },
    ]);
  });

  it('refuse a folder that has no place among the rooms', async () => {
    const dir = tree({
      'src/lists/jobs.ts': "import { helper } from '../misc/helper.js';\nexport const h = helper;\n",
      'src/misc/helper.ts': 'export const helper = 1;\n',
    });
    expect((await violationsIn(dir)).map((v) => v.rule)).toContain('every-module-has-a-room');
  });

  it('refuse an import cycle between two modules of one room', async () => {
    const dir = tree({
      'src/lists/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
      'src/lists/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n",
    });
    expect((await violationsIn(dir)).map((v) => v.rule)).toEqual(['no-circular']);
  });
});
