import { createHash } from 'node:crypto';
import { parse } from 'graphql';
import { afterEach, describe, expect, it } from 'vitest';
import { documentHeapBytes, HEAP_BYTES_PER_TOKEN } from '../../src/server/document-cache.js';
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
    const oneDocument = documentHeapBytes(parse(literalQuery(FAR_FUTURE)));
    const fits = Math.floor(2 ** 20 / oneDocument);
    for (let i = 0; i < fits + 40; i++) {
      const { status, body } = await h.gql(literalQuery(FAR_FUTURE - i));
      expect(status).toBe(200);
      expect(body.data.jobSessions.nodes).toHaveLength(2);
    }
    const keys = h.gateway.documents!.keys();
    expect(keys.length).toBe(fits);
    // Apollo keys a document by the SHA-256 of its text: the newest is kept, the oldest went.
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    expect(keys.some((k) => k.endsWith(sha(literalQuery(FAR_FUTURE - fits - 39))))).toBe(true);
    expect(keys.some((k) => k.endsWith(sha(literalQuery(FAR_FUTURE))))).toBe(false);
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

  it('falls back to the JSON size for a document parsed without locations', () => {
    const document = parse('{ jobSessions(first: 2) { nodes { sessionId } } }', { noLocation: true });
    expect(documentHeapBytes(document)).toBe(Math.ceil(4.5 * JSON.stringify(document).length));
  });
});
