/**
 * Response compression: br or gzip for responses at least COMPRESSION_THRESHOLD_BYTES large
 * when the client accepts it; small responses and clients that do not ask are sent as is.
 */
import { request } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, withoutCost, type Harness } from '../support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ sim: { size: 200 }, env: { COMPRESSION_THRESHOLD_BYTES: '2048' } });
});
afterAll(() => h.close());

function post(query: string, acceptEncoding?: string): Promise<{ status: number; headers: Record<string, unknown>; raw: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      h.gateway.url,
      { method: 'POST', headers: { 'content-type': 'application/json', ...(acceptEncoding ? { 'accept-encoding': acceptEncoding } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, raw: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ query }));
  });
}

const LARGE = '{ jobSessions(first: 100) { nodes { sessionId jobName status start end } } }';
const SMALL = '{ jobSessions(first: 1) { totalCount } }';

describe('response compression', () => {
  it('compresses a large page with br when the client accepts br and gzip, and the body decodes to the same answer', async () => {
    const plain = await post(LARGE);
    expect(plain.headers['content-encoding']).toBeUndefined();
    // No Accept-Encoding: sent as is, still marked as varying with it (caches must not reuse it for br clients).
    expect(plain.headers.vary).toMatch(/Accept-Encoding/);
    const expected = JSON.parse(plain.raw.toString('utf8'));
    expect(expected.data.jobSessions.nodes).toHaveLength(100);

    const br = await post(LARGE, 'gzip, deflate, br');
    expect(br.status).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toMatch(/Accept-Encoding/);
    expect(Number(br.headers['content-length'])).toBe(br.raw.length);
    expect(br.raw.length).toBeLessThan(plain.raw.length / 3);
    expect(JSON.parse(brotliDecompressSync(br.raw).toString('utf8'))).toEqual(expected);
  });

  it('uses gzip for clients that accept only gzip', async () => {
    const gz = await post(LARGE, 'gzip');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(gz.raw).toString('utf8')).data.jobSessions.nodes).toHaveLength(100);
  });

  it('sends responses below the threshold, and to clients that refuse encodings, uncompressed', async () => {
    const small = await post(SMALL, 'gzip, br');
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(withoutCost(JSON.parse(small.raw.toString('utf8')))).toEqual({ data: { jobSessions: { totalCount: 200 } } });
    const identity = await post(LARGE, 'identity');
    expect(identity.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(identity.raw.toString('utf8')).data.jobSessions.nodes).toHaveLength(100);
  });
});
