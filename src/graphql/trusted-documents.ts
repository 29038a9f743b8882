/**
 * Trusted documents (persisted operations) for apps that ship their queries.
 *
 * The manifest (PERSISTED_DOCUMENTS_FILE) is what the client tooling writes:
 * - Apollo Client's persisted-query manifest (`@apollo/generate-persisted-query-manifest`):
 *   `{ "format": "apollo-persisted-query-manifest", "version": 1, "operations": [{ "id", "name", "type", "body" }] }`;
 * - graphql-codegen's client preset (`persistedDocuments: true`): `persisted-documents.json`, `{ "<hash>": "<body>" }`.
 *
 * A request names its document by `documentId` (the GraphQL-over-HTTP persisted-documents
 * proposal, codegen's default; a `sha256:` prefix is accepted) or by
 * `extensions.persistedQuery.sha256Hash` (Apollo Client's persisted-queries link). When
 * arbitrary operations are not allowed, a request with document text runs only if the text
 * is one of the manifest's bodies, and unknown ids are refused: automatic persisted queries
 * cannot register anything new. When they are allowed, unknown hashes fall through to
 * Apollo's automatic persisted queries (PERSISTED_QUERY_NOT_FOUND, then the client resends the text).
 */
import type { Logger } from 'pino';
import { readFileSync } from 'node:fs';
import { ErrorCode } from '../errors.js';
import { ConfigError } from '../config.js';

export class TrustedDocumentError extends Error {
  constructor(
    readonly code: typeof ErrorCode.PERSISTED_QUERY_NOT_FOUND | typeof ErrorCode.PERSISTED_QUERY_NOT_IN_LIST,
    message: string,
  ) {
    super(message);
  }
}

export interface TrustedDocuments {
  /** How many operations the manifest holds. */
  readonly size: number;
  /** Whether the manifest holds the document `id` (a hash, with or without `sha256:`). */
  has(id: string): boolean;
  /**
   * Puts the manifest's text in `operation.query` when the operation names a document, and
   * refuses what is not allowed. Mutates the (freshly parsed) operation object.
   */
  resolve(operation: Record<string, unknown>): void;
}

/** Parses either manifest format; throws with a message naming the file and what was wrong. */
export function parseManifest(text: string, file = 'the manifest'): Map<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  const documents = new Map<string, string>();
  if (value && typeof value === 'object' && !Array.isArray(value) && (value as { format?: unknown }).format === 'apollo-persisted-query-manifest') {
    const { version, operations } = value as { version?: unknown; operations?: unknown };
    if (version !== 1) throw new Error(`${file}: expected an Apollo persisted-query manifest of version 1, got version ${JSON.stringify(version)}`);
    if (!Array.isArray(operations)) throw new Error(`${file}: expected "operations" to be an array`);
    for (const [index, op] of operations.entries()) {
      const { id, body } = (op ?? {}) as { id?: unknown; body?: unknown };
      if (typeof id !== 'string' || typeof body !== 'string') throw new Error(`${file}: operations[${index}] needs string "id" and "body"`);
      documents.set(id, body);
    }
    return documents;
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [id, body] of Object.entries(value)) {
      if (typeof body !== 'string')
        throw new Error(`${file}: expected { "<hash>": "<document>" } (graphql-codegen) or an Apollo persisted-query manifest; "${id}" is not a string`);
      documents.set(id, body);
    }
    return documents;
  }
  throw new Error(`${file}: expected { "<hash>": "<document>" } (graphql-codegen) or an Apollo persisted-query manifest`);
}

/** Reads the manifest; a file that cannot be read or parsed stops the start with one line naming the variable. */
export function loadTrustedDocuments(file: string, allowArbitrary: boolean, logger?: Logger): TrustedDocuments {
  const documents = readTrustedDocuments(file, allowArbitrary);
  logger?.info(
    { file, operations: documents.size, allowArbitraryOperations: allowArbitrary },
    allowArbitrary ? 'trusted documents loaded; other operations run too' : 'trusted documents loaded; only they run',
  );
  return documents;
}

function readTrustedDocuments(file: string, allowArbitrary: boolean): TrustedDocuments {
  const variable = `Invalid PERSISTED_DOCUMENTS_FILE (${JSON.stringify(file)})`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${variable}: cannot read it: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    return createTrustedDocuments(parseManifest(text, 'the file'), allowArbitrary);
  } catch (error) {
    throw new ConfigError(`${variable}: ${(error as Error).message.replace(/^the file:? ?/, '')}`);
  }
}

export function createTrustedDocuments(documents: Map<string, string>, allowArbitrary: boolean): TrustedDocuments {
  const bodies = new Set(documents.values());
  const lookup = (id: string) => documents.get(id) ?? (id.startsWith('sha256:') ? documents.get(id.slice('sha256:'.length)) : undefined);
  return {
    size: documents.size,
    has: (id) => lookup(id) !== undefined,
    resolve(operation) {
      const extensions = operation.extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined;
      const hash = extensions?.persistedQuery?.sha256Hash;
      const id = typeof operation.documentId === 'string' ? operation.documentId : typeof hash === 'string' ? hash : undefined;
      if (id !== undefined) {
        const body = lookup(id);
        if (body !== undefined) {
          operation.query = body;
          delete operation.documentId;
          if (extensions?.persistedQuery) {
            const { persistedQuery: _used, ...rest } = extensions as Record<string, unknown>;
            operation.extensions = rest;
          }
          return;
        }
        // Automatic persisted queries: Apollo answers PERSISTED_QUERY_NOT_FOUND, the client resends the text.
        if (allowArbitrary && typeof hash === 'string' && typeof operation.documentId !== 'string') return;
        throw new TrustedDocumentError(
          ErrorCode.PERSISTED_QUERY_NOT_FOUND,
          `No trusted document has the id ${JSON.stringify(id.slice(0, 100))}: the app and the gateway's PERSISTED_DOCUMENTS_FILE are out of step.`,
        );
      }
      if (!allowArbitrary && typeof operation.query === 'string' && !bodies.has(operation.query)) {
        throw new TrustedDocumentError(
          ErrorCode.PERSISTED_QUERY_NOT_IN_LIST,
          'This gateway runs only trusted documents: send the "documentId" of an operation in its manifest (PERSISTED_DOCUMENTS_FILE).',
        );
      }
    },
  };
}
