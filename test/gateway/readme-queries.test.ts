import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';

/** The README's "Queries to paste", as a frontend developer would paste them. */
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = README.slice(README.indexOf('### Queries to paste'), README.indexOf('### Errors'));
const queries = [...section.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!);

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe('the README queries to paste', () => {
  it('are there, one per screen', () => {
    expect(queries.length).toBeGreaterThanOrEqual(9);
  });

  it.each(queries.map((q) => [/query (\w+)/.exec(q)?.[1] ?? q.slice(0, 30), q]))('%s runs without errors and returns data', async (_name, query) => {
    const failed = h.sim.list().find((s) => s.status === 'FAILED')!;
    // Variables the README's queries declare: a session id, and a date a week back as the README suggests.
    const { status, body } = await h.gql(query, { id: failed.id, since: new Date(Date.now() - 7 * 86_400_000).toISOString() });
    expect(body.errors).toBeUndefined();
    expect(status).toBe(200);
    expect(Object.values(body.data as object).every((v) => v !== null)).toBe(true);
  });
});
