/**
 * Errors that say what was wrong with the right code, whichever way the input arrived, and a
 * documentation (README.md, docs/) that lists every code and whose examples keep working.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSchema, parse, validate } from 'graphql';
import { ErrorCode, httpStatusOf } from '../../src/errors.js';
import { typeDefs } from '../../src/gateway.js';
import { startHarness, type Harness } from '../support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ sim: { size: 20 }, env: { MAX_ALIASES: '2', MAX_DEPTH: '4' } });
});
afterAll(() => h.close());

describe('error messages', () => {
  it('answers a page size far above PAGE_MAX_SIZE with BAD_USER_INPUT naming the argument and its maximum, not QUERY_TOO_COMPLEX', async () => {
    for (const [argument, query] of [
      ['first', '{ jobSessions(first: 100000) { nodes { sessionId statistics { total } } } }'],
      ['last', '{ jobSessions(last: 5000000) { nodes { sessionId } } }'],
    ] as const) {
      h.resetUpstreamCalls();
      const { status, body } = await h.gql(query);
      expect(status).toBe(400);
      expect(body.errors).toEqual([
        expect.objectContaining({
          message: expect.stringMatching(new RegExp(`^Argument "${argument}" must be at most 1000, got \\d+\\.$`)),
          extensions: { code: 'BAD_USER_INPUT', argumentName: argument },
        }),
      ]);
      expect(h.upstreamCalls()).toHaveLength(0);
    }
    const viaVariable = await h.gql('query Q($n: Int) { jobSessions(first: $n) { nodes { sessionId } } }', { n: 100000 });
    expect(viaVariable.body.errors![0]!.extensions).toEqual({ code: 'BAD_USER_INPUT', argumentName: 'first' });
  });

  it('answers a bad DateTime with BAD_USER_INPUT whether it is a literal or a variable', async () => {
    const literal = await h.gql('{ jobSessions(first: 1, filter: { start: { gte: "last tuesday" } }) { totalCount } }');
    const variable = await h.gql('query Q($d: DateTime) { jobSessions(first: 1, filter: { start: { gte: $d } }) { totalCount } }', { d: 'last tuesday' });
    const wrongKind = await h.gql('{ jobSessions(first: 1, filter: { start: { gte: true } }) { totalCount } }');
    for (const response of [literal, variable, wrongKind]) {
      expect(response.status).toBe(400);
      expect(response.body.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    }
    expect(literal.body.errors![0]!.message).toMatch(/DateTime cannot represent "last tuesday": expected an ISO-8601 date-time with a time zone/);
    expect(variable.body.errors![0]!.message).toMatch(/DateTime cannot represent "last tuesday": expected an ISO-8601 date-time with a time zone/);
  });

  it('words the alias and depth limits without a "Syntax Error:" prefix', async () => {
    const aliases = await h.gql('{ a: jobSessions(first: 1) { totalCount } b: jobSessions(first: 1) { totalCount } c: jobSessions(first: 1) { totalCount } }');
    expect(aliases.body.errors).toEqual([{ message: 'Aliases limit of 2 exceeded, found 3.', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }]);
    const depth = await h.gql('{ jobSessions(first: 1) { nodes { policySnapshot { spec { source { metadata { path } } } } } } }');
    expect(depth.body.errors![0]!.message).toMatch(/^Query depth limit of 4 exceeded, found \d+\.$/);
  });
});

describe('the documentation', () => {
  const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
  const schemaDoc = read('docs/schema.md');
  const docs = ['README.md', 'docs/schema.md', 'docs/live-updates.md', 'docs/security.md'].map(read).join('\n');

  it("lists every error code with its HTTP status in docs/schema.md's Errors table", () => {
    const start = schemaDoc.indexOf('\n## Errors\n');
    expect(start, 'docs/schema.md has an Errors section').toBeGreaterThanOrEqual(0);
    const next = schemaDoc.indexOf('\n## ', start + 1);
    const errors = schemaDoc.slice(start, next < 0 ? undefined : next);
    for (const code of Object.values(ErrorCode)) {
      const row = errors.split('\n').find((line) => line.includes(`\`${code}\``));
      expect(row, `${code} has a row`).toBeDefined();
      expect(row, `${code}'s row gives its status`).toContain(`| ${httpStatusOf[code]} |`);
    }
  });

  it('has example queries that validate against the schema and hold no date that goes stale', () => {
    const schema = buildSchema(typeDefs);
    const blocks = [...docs.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    for (const block of blocks) {
      expect(
        validate(schema, parse(block)).map((e) => e.message),
        block,
      ).toEqual([]);
      expect(block, 'dates come in variables').not.toMatch(/\d{4}-\d{2}-\d{2}T/);
    }
  });
});
