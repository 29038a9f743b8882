/**
 * The typed consumer of docs/consumers.md (examples/typed-consumer): its generated types match the
 * schema (codegen --check), it compiles, and it runs against a gateway over the simulator, through
 * the trusted-documents manifest it generated and with HTTP revalidation.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { createClient } from '../../examples/typed-consumer/src/client.js';
import { failuresOf, recentSessions } from '../../examples/typed-consumer/src/main.js';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const example = `${root}examples/typed-consumer/`;
const manifest = `${example}src/gql/persisted-documents.json`;

describe('the typed consumer example', () => {
  it('has generated types that match schema/schema.graphql (graphql-codegen --check) and compiles against them', async () => {
    await expect(run(`${root}node_modules/.bin/graphql-codegen`, ['--config', `${example}codegen.ts`, '--check'], { cwd: root })).resolves.toBeDefined();
    await expect(run(`${root}node_modules/.bin/tsc`, ['-p', `${example}tsconfig.json`], { cwd: root })).resolves.toBeDefined();
  }, 60_000);

  describe('against a gateway that runs only its trusted documents (production, PERSISTED_DOCUMENTS_FILE)', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness({ sim: { size: 200 }, env: { NODE_ENV: 'production', PERSISTED_DOCUMENTS_FILE: manifest } });
    });
    afterAll(() => h?.close());

    it('reads the newest failed sessions and one session in detail, typed, as the simulator holds them', async () => {
      const client = createClient({ endpoint: h.gateway.url });
      const { total, lines } = await recentSessions(client, ['FAILED', 'PARTIAL'], 3);
      const expected = h.sim
        .list()
        .filter((session) => session.status === 'FAILED' || session.status === 'PARTIAL')
        .sort((a, b) => b.start - a.start || Number(b.id) - Number(a.id));
      expect(total).toBe(expected.length);
      expect(lines.map((line) => [line.sessionId, line.status])).toEqual(expected.slice(0, 3).map((session) => [session.id, session.status]));
      const failures = await failuresOf(client, lines[0]!.sessionId);
      expect(failures).toEqual(Object.fromEntries((expected[0]!.properties?.statistics ?? []).map((statistic) => [statistic.resourceType, statistic.failed])));
      expect(await failuresOf(client, '999999999999')).toBeNull();
    });

    it('revalidates a finished session with If-None-Match and reuses it on 304; never keeps a no-store list', async () => {
      const client = createClient({ endpoint: h.gateway.url });
      const { lines } = await recentSessions(client, ['COMPLETED'], 1);
      const id = lines[0]!.sessionId;
      const first = await failuresOf(client, id);
      expect(client.last).toBe('fresh');
      expect(await failuresOf(client, id)).toEqual(first);
      expect(client.last).toBe('revalidated');
      await recentSessions(client, ['COMPLETED'], 1);
      expect(client.last).toBe('fresh');
    });

    it('runs as a program and prints its report', async () => {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', `${example}src/main.ts`, h.gateway.url], { cwd: root });
      expect(stdout).toMatch(/^\d+ failed or partial sessions; the newest:\n/);
      expect(stdout).toMatch(/failed resources of \d+:/);
    });
  });
});
