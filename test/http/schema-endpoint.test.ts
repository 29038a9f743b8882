/**
 * The consumer's way to the schema: GET /schema.graphql where introspection is allowed, behind
 * SCHEMA_TOKEN where it is off, and an introspection-off error that names GRAPHQL_INTROSPECTION.
 */
import { readFileSync } from 'node:fs';
import { buildSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';

const SDL = readFileSync(new URL('../../schema/schema.graphql', import.meta.url), 'utf8');
const TOKEN = 'schema-token-for-the-tests';

const schemaUrl = (h: Harness) => new URL('/schema.graphql', h.gateway.url).href;

describe('GET /schema.graphql where introspection is allowed (development)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sim: { size: 5 } });
  });
  afterAll(() => h?.close());

  it('serves the SDL the gateway runs, as text, with an ETag that a repeat revalidates with 304', async () => {
    const response = await fetch(schemaUrl(h));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const text = await response.text();
    expect(text).toBe(SDL);
    expect(buildSchema(text).getQueryType()?.getFields().jobSession).toBeDefined();
    const etag = response.headers.get('etag')!;
    // fetch asks for br or gzip: the tag names the coding.
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{43}-(br|gzip)"$/);
    const repeat = await fetch(schemaUrl(h), { headers: { 'if-none-match': etag } });
    expect(repeat.status).toBe(304);
    expect(await repeat.text()).toBe('');
  });

  it('answers a POST with 405', async () => {
    const response = await fetch(schemaUrl(h), { method: 'POST' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('in production (introspection off)', () => {
  let withToken: Harness;
  let withoutToken: Harness;
  beforeAll(async () => {
    [withToken, withoutToken] = await Promise.all([
      startHarness({ sim: { size: 5 }, env: { NODE_ENV: 'production', SCHEMA_TOKEN: TOKEN } }),
      startHarness({ sim: { size: 5 }, env: { NODE_ENV: 'production' } }),
    ]);
  });
  afterAll(async () => {
    await withToken?.close();
    await withoutToken?.close();
  });

  it('refuses introspection with an error that names GRAPHQL_INTROSPECTION and the schema endpoint, not ApolloServer', async () => {
    const { status, body } = await withToken.gql('{ __schema { queryType { name } } }');
    expect(status).toBe(400);
    expect(body.errors).toHaveLength(1);
    expect(body.errors![0]!.message).toContain('GRAPHQL_INTROSPECTION');
    expect(body.errors![0]!.message).toContain('/schema.graphql');
    expect(body.errors![0]!.message).not.toMatch(/ApolloServer/);
    expect(body.errors![0]!.extensions).toEqual({ code: 'GRAPHQL_VALIDATION_FAILED', validationErrorCode: 'INTROSPECTION_DISABLED' });
  });

  it('serves the SDL only with the SCHEMA_TOKEN bearer, privately', async () => {
    const none = await fetch(schemaUrl(withToken));
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="schema"');
    expect(await none.text()).not.toContain('type Query');
    const wrong = await fetch(schemaUrl(withToken), { headers: { authorization: 'Bearer not-the-schema-token' } });
    expect(wrong.status).toBe(401);
    const right = await fetch(schemaUrl(withToken), { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(right.status).toBe(200);
    expect(right.headers.get('cache-control')).toBe('private, no-cache');
    expect(await right.text()).toBe(SDL);
  });

  it('does not serve the SDL at all without a SCHEMA_TOKEN, and says why', async () => {
    const response = await fetch(schemaUrl(withoutToken), { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: string }).error).toMatch(/introspection is off \(GRAPHQL_INTROSPECTION\) and no SCHEMA_TOKEN is set/);
  });
});
