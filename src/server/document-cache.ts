/**
 * Apollo's cache of parsed and validated documents, bounded by what it really holds.
 *
 * A document found here skips parsing and validation (about 0.5 ms of CPU for a page query).
 * Apollo's default store is bounded by the JSON length of what it holds (30 MiB), while a
 * parsed document weighs about 4.5 times that on the heap (every token and AST node is an
 * object with its location): clients that inline literals instead of sending variables make
 * every request a new document, and 13,000 of them grew the process to 460-830 MiB RSS
 * (issue 8). So entries are weighed by an estimate of their heap size, counted from the
 * document's token list (a linked list the parser keeps in `loc`, so counting is a pointer
 * walk, not a JSON.stringify of the tree on every insertion).
 */
import type { DocumentNode, Token } from 'graphql';
import { InMemoryLRUCache } from '@apollo/utils.keyvaluecache';

/**
 * Heap bytes per token of a parsed document, measured with graphql 16 (Node 20, `--expose-gc`,
 * 5,000 parsed page queries of 41 and 51 tokens: 14.0 and 16.2 KB each, about 330 bytes per
 * token: the token itself, its share of AST nodes and locations, and the source text).
 */
export const HEAP_BYTES_PER_TOKEN = 330;

/** Estimated heap weight of a parsed document (pure). */
export function documentHeapBytes(document: DocumentNode): number {
  let tokens = 0;
  for (let token: Token | null | undefined = document.loc?.startToken; token; token = token.next) tokens++;
  // Without a token list (a document parsed with noLocation), weigh by its JSON size instead.
  if (tokens === 0) return Math.ceil(4.5 * JSON.stringify(document).length);
  return tokens * HEAP_BYTES_PER_TOKEN;
}

/** Apollo Server's `documentStore`: an LRU of documents whose estimated heap adds up to at most `maxBytes`; null when 0. */
export function createDocumentStore(maxBytes: number): InMemoryLRUCache<DocumentNode> | null {
  if (maxBytes <= 0) return null;
  return new InMemoryLRUCache<DocumentNode>({ maxSize: maxBytes, sizeCalculation: documentHeapBytes });
}
