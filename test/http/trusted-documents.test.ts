/**
 * Trusted documents: both manifest formats, both ways clients name a document, the
 * production default (only the manifest's operations) and automatic persisted queries.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowArbitraryOf, loadConfig } from '../../src/config.js';
import { parseManifest } from '../../src/graphql/trusted-documents.js';
import { startHarness, withoutCost, type Harness } from '../support/harness.js';

const RUNNING = 'query Running { jobSessions(first: 2, filter: { status: [RUNNING] }) { nodes { sessionId status } } }';
const COUNT = 'query Count { jobSessions(first: 1) { totalCount } }';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const dir = mkdtempSync(join(tmpdir(), 'trusted-documents-'));
const apolloManifest = join(dir, 'persisted-query-manifest.json');
writeFileSync(
  apolloManifest,
  JSON.stringify({
    format: 'apollo-persisted-query-manifest',
    version: 1,
    operations: [
      { id: sha256(RUNNING), name: 'Running', type: 'query', body: RUNNING },
      { id: sha256(COUNT), name: 'Count', type: 'query', body: COUNT },
    ],
  }),
);
const codegenManifest = join(dir, 'persisted-documents.json');
writeFileSync(codegenManifest, JSON.stringify({ [sha256(RUNNING)]: RUNNING, [sha256(COUNT)]: COUNT }));

async function post(h: Harness, body: unknown) {
  const response = await fetch(h.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: withoutCost(await response.json()) as any };
}

describe('trusted documents in production (only the manifest runs)', () => {
  let apollo: Harness;
  let codegen: Harness;
  beforeAll(async () => {
    [apollo, codegen] = await Promise.all([
      startHarness({ sim: { size: 30 }, env: { NODE_ENV: 'production', PERSISTED_DOCUMENTS_FILE: apolloManifest } }),
      startHarness({ sim: { size: 30 }, env: { NODE_ENV: 'production', PERSISTED_DOCUMENTS_FILE: codegenManifest } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([apollo.close(), codegen.close()]);
  });

  it('runs a document named by documentId (graphql-codegen) or by the persisted-query hash (Apollo Client), from either manifest format', async () => {
    for (const h of [apollo, codegen]) {
      const byId = await post(h, { documentId: sha256(COUNT) });
      expect(byId).toEqual({ status: 200, body: { data: { jobSessions: { totalCount: 30 } } } });
      const prefixed = await post(h, { documentId: `sha256:${sha256(COUNT)}` });
      expect(prefixed.body.data.jobSessions.totalCount).toBe(30);
      const byHash = await post(h, { operationName: 'Running', extensions: { persistedQuery: { version: 1, sha256Hash: sha256(RUNNING) } } });
      expect(byHash.status).toBe(200);
      expect(byHash.body.data.jobSessions.nodes.every((n: { status: string }) => n.status === 'RUNNING')).toBe(true);
    }
  });

  it('runs a document named in a GET query string', async () => {
    const url = `${apollo.gateway.url}?documentId=${sha256(COUNT)}`;
    const response = await fetch(url, { headers: { 'apollo-require-preflight': 'true' } });
    expect(response.status).toBe(200);
    expect(withoutCost(await response.json())).toEqual({ data: { jobSessions: { totalCount: 30 } } });
  });

  it('refuses document text that is not in the manifest with PERSISTED_QUERY_NOT_IN_LIST, before any upstream call', async () => {
    apollo.resetUpstreamCalls();
    const { status, body } = await post(apollo, { query: '{ jobSessions(first: 1000) { nodes { raw } } }' });
    expect(status).toBe(400);
    expect(body.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    expect(body.errors[0].message).toMatch(/runs only trusted documents: send the "documentId"/);
    expect(apollo.upstreamCalls()).toHaveLength(0);
  });

  it('runs the exact text of a manifest document (clients that send the text as well)', async () => {
    expect((await post(apollo, { query: COUNT })).body).toEqual({ data: { jobSessions: { totalCount: 30 } } });
  });

  it('refuses an unknown id with PERSISTED_QUERY_NOT_FOUND, and cannot be taught new documents through automatic persisted queries', async () => {
    const unknown = await post(apollo, { documentId: sha256('query Other { __typename }') });
    expect(unknown.status).toBe(200);
    expect(unknown.body.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const text = '{ jobSessions(first: 3) { totalCount } }';
    const register = await post(apollo, { query: text, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(text) } } });
    expect(register.body.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const again = await post(apollo, { extensions: { persistedQuery: { version: 1, sha256Hash: sha256(text) } } });
    expect(again.body.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  });
});

describe('trusted documents in development, and automatic persisted queries', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sim: { size: 30 }, env: { PERSISTED_DOCUMENTS_FILE: codegenManifest } });
  });
  afterAll(() => h.close());

  it('runs both manifest documents and any other operation', async () => {
    expect((await post(h, { documentId: sha256(COUNT) })).body.data.jobSessions.totalCount).toBe(30);
    expect((await post(h, { query: '{ jobSessions(first: 1) { nodes { sessionId } } }' })).status).toBe(200);
  });

  it('keeps automatic persisted queries: an unknown hash asks for the text, which registers it', async () => {
    const text = '{ jobSessions(first: 4) { totalCount } }';
    const hash = { extensions: { persistedQuery: { version: 1, sha256Hash: sha256(text) } } };
    const first = await post(h, hash);
    expect(first.body.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect((await post(h, { query: text, ...hash })).body.data.jobSessions.totalCount).toBe(30);
    expect((await post(h, hash)).body).toEqual({ data: { jobSessions: { totalCount: 30 } } });
  });
});

describe('trusted-documents configuration', () => {
  it('defaults ALLOW_ARBITRARY_OPERATIONS to false only in production with a manifest', () => {
    const allow = (env: Record<string, string>) => allowArbitraryOf(loadConfig(env).env);
    expect(allow({})).toBe(true);
    expect(allow({ NODE_ENV: 'production' })).toBe(true);
    expect(allow({ PERSISTED_DOCUMENTS_FILE: codegenManifest })).toBe(true);
    expect(allow({ NODE_ENV: 'production', PERSISTED_DOCUMENTS_FILE: codegenManifest })).toBe(false);
    expect(allow({ NODE_ENV: 'production', PERSISTED_DOCUMENTS_FILE: codegenManifest, ALLOW_ARBITRARY_OPERATIONS: 'true' })).toBe(true);
    expect(allow({ PERSISTED_DOCUMENTS_FILE: codegenManifest, ALLOW_ARBITRARY_OPERATIONS: 'false' })).toBe(false);
  });

  it('refuses ALLOW_ARBITRARY_OPERATIONS=false without a manifest', () => {
    expect(() => loadConfig({ ALLOW_ARBITRARY_OPERATIONS: 'false' })).toThrow(/^Invalid ALLOW_ARBITRARY_OPERATIONS: false needs PERSISTED_DOCUMENTS_FILE/);
  });

  it('stops the start with one line naming PERSISTED_DOCUMENTS_FILE when the file cannot be read or is no manifest', async () => {
    await expect(startHarness({ env: { PERSISTED_DOCUMENTS_FILE: join(dir, 'missing.json') } })).rejects.toThrow(
      /^Invalid PERSISTED_DOCUMENTS_FILE \(".*missing\.json"\): cannot read it: ENOENT$/,
    );
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '[1, 2]');
    await expect(startHarness({ env: { PERSISTED_DOCUMENTS_FILE: broken } })).rejects.toThrow(
      /^Invalid PERSISTED_DOCUMENTS_FILE \(".*broken\.json"\): expected \{ "<hash>": "<document>" \} \(graphql-codegen\) or an Apollo persisted-query manifest$/,
    );
  });

  it('says what is wrong with a manifest', () => {
    expect(() => parseManifest('{', 'm.json')).toThrow(/^m\.json is not valid JSON/);
    expect(() => parseManifest('[]', 'm.json')).toThrow(/^m\.json: expected \{ "<hash>": "<document>" \}/);
    expect(() => parseManifest(JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 2, operations: [] }), 'm.json')).toThrow(
      /version 1, got version 2/,
    );
    expect(() => parseManifest(JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: 'x' }] }), 'm.json')).toThrow(
      /operations\[0\] needs string "id" and "body"/,
    );
    expect(() => parseManifest(JSON.stringify({ abc: 3 }), 'm.json')).toThrow(/"abc" is not a string/);
  });
});
