import { createHash } from 'node:crypto';
import { parse } from 'graphql';
import { afterEach, describe, expect, it } from 'vitest';
import { documentHeapBytes, documentShape, HEAP_BYTES_PER_TOKEN, textShape } from '../../src/graphql/document-cache.js';
import { startHarness, type Harness } from '../support/harness.js';

/** A distinct document per `bound`, as clients that inline their filter write them. */
const literalQuery = (bound: number) => `{ jobSessions(first: 2, filter: {start: {lt: ${bound}}}) { nodes { sessionId } } }`;
const FAR_FUTURE = 32_503_680_000_000;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('the document cache', () => {
  it('stays within its heap budget however many distinct documents arrive, and keeps the recent ones', async () => {
    h = await startHarness({ env: { GRAPHQL_DOCUMENT_CACHE_MB: '1' } });
    // Distinct in structure (the alias), not only in literals.
    const aliased = (i: number) => `{ page${i}: jobSessions(first: 2) { nodes { sessionId } } }`;
    const fits = Math.floor(2 ** 20 / documentHeapBytes(parse(aliased(10_000))));
    for (let i = 0; i < fits + 40; i++) {
      const { status, body } = await h.gql(aliased(10_000 + i));
      expect(status).toBe(200);
      expect(body.data[`page${10_000 + i}`].nodes).toHaveLength(2);
    }
    const keys = h.gateway.documents!.keys();
    expect(keys.length).toBe(fits);
    // Apollo keys a document by the SHA-256 of its text: the newest is kept, the oldest went.
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    expect(keys.some((k) => k.endsWith(sha(aliased(10_000 + fits + 39))))).toBe(true);
    expect(keys.some((k) => k.endsWith(sha(aliased(10_000))))).toBe(false);
  });

  it('serves documents that differ only in literals from one validated shape, storing one document, with each its own values', async () => {
    h = await startHarness();
    const sessions = h.sim.list({
      sort: [
        { property: 'start', direction: 'DESC' },
        { property: 'id', direction: 'DESC' },
      ],
    });
    for (let i = 0; i < 30; i++) {
      // start < the i-th newest session's start: the page begins after it
      const { status, body } = await h.gql(literalQuery(sessions[i]!.start));
      expect(status).toBe(200);
      expect(body.data.jobSessions.nodes[0].sessionId).toBe(sessions.find((s) => s.start < sessions[i]!.start)!.id);
    }
    expect(h.gateway.documents!.keys()).toHaveLength(1);
    expect(h.gateway.documents!.literalVariants).toBe(29);
  });

  it('still rejects a literal variant whose value is invalid, exactly as a new document', async () => {
    h = await startHarness();
    const query = (lt: string) => `{ jobSessions(first: 2, filter: {start: {lt: ${JSON.stringify(lt)}}}) { nodes { sessionId } } }`;
    expect((await h.gql(query('2030-01-01T00:00:00Z'))).status).toBe(200);
    const { status, body } = await h.gql(query('yesterday'));
    expect(status).toBe(400);
    expect(body.errors).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/DateTime cannot represent "yesterday"/),
        extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }),
      }),
    ]);
    expect(h.gateway.documents!.literalVariants).toBe(0);
  });

  it('still rejects a literal variant whose fields under one name no longer have equal arguments', async () => {
    h = await startHarness();
    const query = (a: number, b: number) => `{ p: jobSessions(first: ${a}) { nodes { sessionId } } p: jobSessions(first: ${b}) { nodes { sessionId } } }`;
    expect((await h.gql(query(2, 2))).status).toBe(200);
    const { status, body } = await h.gql(query(2, 3));
    expect(status).toBe(400);
    expect(body.errors).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/Fields "p" conflict/),
        extensions: expect.objectContaining({ code: 'GRAPHQL_VALIDATION_FAILED' }),
      }),
    ]);
  });

  it('can be turned off, and queries still work', async () => {
    h = await startHarness({ env: { GRAPHQL_DOCUMENT_CACHE_MB: '0' } });
    expect(h.gateway.documents).toBeNull();
    const { status, body } = await h.gql(literalQuery(FAR_FUTURE));
    expect(status).toBe(200);
    expect(body.data.jobSessions.nodes).toHaveLength(2);
  });
});

describe('documentHeapBytes', () => {
  it('weighs a parsed document by its tokens', () => {
    const small = parse('{ jobSessions(first: 2) { nodes { sessionId } } }');
    const larger = parse(literalQuery(1));
    // { jobSessions ( first : 2 ) { nodes { sessionId } } } and the start and end-of-file tokens
    expect(documentHeapBytes(small)).toBe(16 * HEAP_BYTES_PER_TOKEN);
    expect(documentHeapBytes(larger)).toBeGreaterThan(documentHeapBytes(small));
  });

  it('gives documents that differ only in number and string literals one shape, and any other difference another', () => {
    const shape = (text: string) => documentShape(parse(text));
    expect(shape('{ jobSessions(first: 2, filter: {jobName: "a"}) { nodes { sessionId } } }')).toBe(
      shape('{ jobSessions(first: 30, filter: {jobName: "b*"}) { nodes { sessionId } } }'),
    );
    expect(shape('{ jobSessions(first: 2) { nodes { sessionId } } }')).not.toBe(shape('{ jobSessions(first: 2) { nodes { jobName } } }'));
    expect(shape('{ jobSessions(first: 2, filter: {status: [RUNNING]}) { nodes { sessionId } } }')).not.toBe(
      shape('{ jobSessions(first: 2, filter: {status: [FAILED]}) { nodes { sessionId } } }'),
    );
    expect(shape('{ jobSessions(first: 2) { nodes { sessionId } } }')).not.toBe(shape('{ jobSessions(first: "2") { nodes { sessionId } } }'));
  });

  it('reads the same shape from the text alone as from the parsed document, comments left out', () => {
    const text = 'query Q($f: JobSessionFilter) { # a comment\n jobSessions(first: 2, filter: $f) { nodes { sessionId start } } }';
    expect(textShape(text)).toBe(documentShape(parse(text)));
    expect(textShape(text)).toBe(textShape(text.replace('# a comment', '').replace('first: 2', 'first: 7')));
    expect(textShape(text, 5)).toBeUndefined();
    expect(textShape('{ "unterminated }')).toBeUndefined();
  });

  it('falls back to the JSON size for a document parsed without locations', () => {
    const document = parse('{ jobSessions(first: 2) { nodes { sessionId } } }', { noLocation: true });
    expect(documentHeapBytes(document)).toBe(Math.ceil(4.5 * JSON.stringify(document).length));
  });
});
