import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * The documented queries, as a frontend developer would paste them: the "Queries to paste" of
 * docs/schema.md, and the queries of the README's tour.
 */
const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
/** The lines under `heading` up to the next heading of its level or above (headings inside code blocks do not count). */
function section(text: string, heading: string): string {
  const lines = text.split('\n');
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`no "${heading}" section`);
  const level = heading.indexOf(' ');
  let fenced = false;
  let end = start + 1;
  for (; end < lines.length; end++) {
    if (lines[end]!.startsWith('```')) fenced = !fenced;
    const hashes = /^(#+) /.exec(lines[end]!)?.[1]?.length;
    if (!fenced && hashes !== undefined && hashes <= level) break;
  }
  return lines.slice(start, end).join('\n');
}
const graphqlBlocks = (text: string): string[] => [...text.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!);
const toPaste = graphqlBlocks(section(read('docs/schema.md'), '## Queries to paste'));
const tour = graphqlBlocks(section(read('README.md'), '## A five-minute tour')).filter((q) => /^\s*query\b/.test(q));
const queries = [...toPaste, ...tour];

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe('the documented queries to paste', () => {
  it('are there, one per screen, and the tour has its own', () => {
    expect(toPaste.length).toBeGreaterThanOrEqual(9);
    expect(tour.length).toBeGreaterThanOrEqual(1);
  });

  it.each(queries.map((q) => [/query (\w+)/.exec(q)?.[1] ?? q.slice(0, 30), q]))('%s runs without errors and returns data', async (_name, query) => {
    const failed = h.sim.list().find((s) => s.status === 'FAILED')!;
    // Variables the documented queries declare: a session id, and a date a week back as docs/schema.md suggests.
    const { status, body } = await h.gql(query, { id: failed.id, since: new Date(Date.now() - 7 * 86_400_000).toISOString() });
    expect(body.errors).toBeUndefined();
    expect(status).toBe(200);
    expect(Object.values(body.data as object).every((v) => v !== null)).toBe(true);
  });
});
