/**
 * Conditional GET for GraphQL answers: a strong `ETag` (a hash of the answer's bytes) and
 * `If-None-Match` answered with 304 and no body (RFC 9110 §8.8.3, §13.1.2), and the `Vary` that
 * names every request header a GraphQL answer depends on. The `Cache-Control` itself is decided in
 * the GraphQL room (src/graphql/http-caching.ts), where the schema's hints are known.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';

/**
 * What a GraphQL answer depends on besides its URL: `Accept` (JSON or graphql-response+json, and
 * the explorer's page or an event stream at the same path), the credentials (`Authorization`,
 * `X-Endeavour-Sessionid`), and `Cookie`: the gateway reads none, but an authenticating proxy in
 * front of it may turn a session cookie into the Authorization it sees. `Accept-Encoding` is
 * added by the compression (sendBody) where it applies, `Origin` by the CORS handler when the
 * allowed origins are a list.
 */
export const GRAPHQL_VARY = ['Accept', 'Authorization', 'X-Endeavour-Sessionid', 'Cookie'];

/** Where the budget's `extensions.cost` starts: Apollo writes `extensions` last, and these quotes cannot occur unescaped inside a string. */
const COST_EXTENSION = ',"extensions":{"cost":{';

/**
 * The ETag of an answer: SHA-256 of its uncompressed bytes, without the caller's budget status
 * (`extensions.cost`, src/graphql/budget.ts), which changes with every request while the answer
 * does not: a 304 keeps the stored answer, and the RateLimit headers of the 304 say where the
 * budget stands now. A compressed representation adds its coding (RFC 9110 §8.8.3.3).
 */
export function entityTag(body: string | Buffer, encoding?: string): string {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  const cost = text.lastIndexOf(COST_EXTENSION);
  const hash = createHash('sha256')
    .update(cost < 0 ? text : text.slice(0, cost))
    .digest('base64url');
  return encoding ? `"${hash}-${encoding}"` : `"${hash}"`;
}

/**
 * Whether `If-None-Match` names this answer (weak comparison, as §13.1.2 asks). A tag of the same
 * bytes in another coding matches too: the client holds the same answer, whichever coding brought it.
 */
export function matchesIfNoneMatch(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const text = Array.isArray(header) ? header.join(',') : header;
  if (text.trim() === '*') return true;
  const bare = (tag: string) =>
    tag
      .trim()
      .replace(/^W\//, '')
      .replace(/^"|"$/g, '')
      .replace(/-(br|gzip)$/, '');
  const wanted = bare(etag);
  return text.split(',').some((tag) => bare(tag) === wanted);
}

/**
 * `public` never reaches a request that carried credentials. The GraphQL room decides the scope
 * from the caller, but identical requests in flight are shared by upstream identity, and in
 * service-account mode an anonymous caller and a token holder have the same one: a token holder
 * that joined an anonymous caller's execution gets its answer, made private here.
 */
export function scopedForRequest(cacheControl: string, headers: IncomingHttpHeaders): string {
  if (!/\bpublic\b/.test(cacheControl)) return cacheControl;
  const credentials = headers.authorization !== undefined || headers['x-endeavour-sessionid'] !== undefined || headers.cookie !== undefined;
  return credentials ? cacheControl.replace(/\bpublic\b/, 'private') : cacheControl;
}

/** Adds names to a response's `Vary`, keeping those already there (CORS adds `Origin` first). */
export function appendVary(res: ServerResponse, ...names: string[]): void {
  const current = res.getHeader('vary');
  const values = (Array.isArray(current) ? current.join(', ') : current === undefined ? '' : String(current))
    .split(',')
    .map((value) => value.trim())
    .filter(Boolean);
  for (const name of names) if (!values.some((value) => value.toLowerCase() === name.toLowerCase())) values.push(name);
  res.setHeader('vary', values.join(', '));
}
