/**
 * Automatic persisted queries on the subscription transports, answered as Apollo Server answers
 * them over HTTP (@apollo/server's requestPipeline): a client that sends only
 * `extensions.persistedQuery.sha256Hash` gets the registered document, or PERSISTED_QUERY_NOT_FOUND
 * ("PersistedQueryNotFound", which Apollo's clients recognise) and resends the text, which
 * registers it. Apollo Kotlin sends subscriptions over multipart HTTP through the same APQ
 * interceptor as queries; without this, such a subscription failed with "Expected a query".
 *
 * One store with the queries' (Apollo's key prefix), so a hash registered by a query runs as a
 * subscription and the reverse; a document is registered only once it passed the checks, and
 * reaches shared state (Redis) only for a verified caller, as for queries (issue 22, item 3).
 * A hash the trusted-document manifest holds is the manifest's (./guard.ts); with only trusted
 * documents allowed, no store is given and nothing is registered.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import { ErrorCode, gatewayError } from '../errors.js';
import { verifiedCaller } from '../state/index.js';
import type { CheckedOperation } from './guard.js';

/** @apollo/server's APQ_CACHE_PREFIX: the same keys as the queries' registrations. */
const APQ_PREFIX = 'apq:';

export interface OperationParams {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
  documentId?: unknown;
  extensions?: unknown;
}

/** The document checks of a subscription request, persisted queries resolved first. */
export type OperationCheck = (params: OperationParams, headers: IncomingHttpHeaders) => Promise<CheckedOperation>;

export interface PersistedQueries {
  store: KeyValueCache<string>;
  /** Whether the caller's credentials were verified (its document may go to shared state). */
  verified: (headers: IncomingHttpHeaders) => boolean;
  /** Whether the trusted-document manifest names this id (it answers for it, not the store). */
  inManifest: (id: string) => boolean;
}

export function withPersistedQueries(check: (params: OperationParams) => CheckedOperation, apq: PersistedQueries | undefined): OperationCheck {
  if (!apq) return async (params) => check(params);
  return async (params, headers) => {
    const persisted = (params.extensions as { persistedQuery?: { version?: unknown; sha256Hash?: unknown } } | null | undefined)?.persistedQuery;
    const hash = persisted?.sha256Hash;
    if (typeof hash !== 'string' || apq.inManifest(hash)) return check(params);
    if (persisted!.version !== 1) return { errors: [gatewayError(ErrorCode.BAD_REQUEST, 'Unsupported persisted query version: expected 1.')] };
    // graphql-ws needs a `query` string in every message: "" means none.
    const query = typeof params.query === 'string' && params.query !== '' ? params.query : undefined;
    if (query === undefined) {
      const known = await apq.store.get(APQ_PREFIX + hash);
      if (known === undefined) return { errors: [gatewayError(ErrorCode.PERSISTED_QUERY_NOT_FOUND, 'PersistedQueryNotFound')] };
      return check({ ...params, query: known });
    }
    if (createHash('sha256').update(query).digest('hex') !== hash) {
      return { errors: [gatewayError(ErrorCode.BAD_REQUEST, 'provided sha does not match query')] };
    }
    const checked = check(params);
    if (!('errors' in checked)) await verifiedCaller.run(apq.verified(headers), () => apq.store.set(APQ_PREFIX + hash, query));
    return checked;
  };
}
