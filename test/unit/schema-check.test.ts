/**
 * `npm run schema:check` (scripts/schema-check.ts): the repository's schema against the last
 * released one, a planted breaking change failing the command, the accept list and the
 * `@deprecated`-then-remove way of retiring a field.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { checkSchema } from '../../scripts/schema-check.js';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const current = readFileSync(join(root, 'schema/schema.graphql'), 'utf8');
const released = readFileSync(join(root, 'schema/released/schema.graphql'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'schema-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', join(root, 'scripts/schema-check.ts'), ...args], { cwd: root });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** The current schema without `Query.jobSessionCounts` (its description, arguments and type). */
const withoutCounts = current.replace(
  /\n\s*"""\n\s*The number of sessions in each state[\s\S]*?\n\s*jobSessionCounts\([\s\S]*?\): \[JobSessionStatusCount!\]!\n/,
  '\n',
);
const REMOVED = "Field 'jobSessionCounts' was removed from object type 'Query'";

describe('schema:check', () => {
  it('passes for the schema in the repository against the released schema', async () => {
    const result = await cli([]);
    expect(result.stderr).not.toMatch(/Breaking/);
    expect(result.code).toBe(0);
  });

  it('fails on a planted breaking change (a removed field), naming it and how to retire a field instead', async () => {
    expect(withoutCounts).not.toContain('jobSessionCounts(');
    const planted = join(dir, 'planted.graphql');
    writeFileSync(planted, withoutCounts);
    const result = await cli(['--current', planted]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(REMOVED);
    expect(result.stderr).toContain('@deprecated');
  });

  it('passes when the accept list names the break with a reason, and refuses an entry without one', async () => {
    const planted = join(dir, 'accepted.graphql');
    writeFileSync(planted, withoutCounts);
    const accepted = join(dir, 'accepted.json');
    writeFileSync(accepted, JSON.stringify([{ change: REMOVED, reason: 'no shipped client asks for it' }]));
    expect((await cli(['--current', planted, '--accepted', accepted])).code).toBe(0);
    writeFileSync(accepted, JSON.stringify([{ change: REMOVED, reason: '' }]));
    const refused = await cli(['--current', planted, '--accepted', accepted]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('expected an array of');
  });

  it('lets a field deprecated in the released schema be removed, but not one that was never deprecated', async () => {
    const deprecated = released.replace(
      /\n(\s*)jobSessionCounts\((.*)\): \[JobSessionStatusCount!\]!\n/,
      '\n$1jobSessionCounts($2): [JobSessionStatusCount!]! @deprecated(reason: "Use jobSessionStats.")\n',
    );
    expect(deprecated).toContain('@deprecated(reason: "Use jobSessionStats.")');
    const retired = await checkSchema(deprecated, withoutCounts, []);
    expect(retired.breaking).toEqual([]);
    const removed = await checkSchema(released, withoutCounts, []);
    expect(removed.breaking.map((change) => change.message)).toEqual([REMOVED]);
  });

  it('counts a changed field type and a new required argument as breaking, an added field as safe', async () => {
    const sdl = 'type Query { a: String b(x: Int): Int }';
    const result = await checkSchema(sdl, 'type Query { a: Int b(x: Int, y: Int!): Int c: String }', []);
    expect(result.breaking.map((change) => change.type).sort()).toEqual(['FIELD_ARGUMENT_ADDED', 'FIELD_TYPE_CHANGED']);
    expect(result.safe.map((change) => change.type)).toEqual(['FIELD_ADDED']);
  });
});
