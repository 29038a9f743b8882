/**
 * Apollo's cache of parsed and validated documents, bounded by what it really holds, and
 * sparing full validation for documents that differ from a validated one only in literals.
 *
 * A document found here skips parsing and validation (about 0.5 ms of CPU for a page query).
 * Apollo's default store is bounded by the JSON length of what it holds (30 MiB), while a
 * parsed document weighs about 4.5 times that on the heap (every token and AST node is an
 * object with its location): clients that inline literals instead of sending variables make
 * every request a new document, and 13,000 of them grew the process to 460-830 MiB RSS
 * (issue 8). So entries are weighed by an estimate of their heap size, counted from the
 * document's token list (a linked list the parser keeps in `loc`, so counting is a pointer
 * walk, not a JSON.stringify of the tree on every insertion).
 *
 * Literals: `jobSessions(first: 25, filter: {start: {lt: 1764000000000}})` and the same with
 * another number are two documents, but validation rules look at structure, names and types;
 * only two of graphql-js's rules depend on literal values: ValuesOfCorrectTypeRule (is the
 * literal a valid value of its type, including custom scalars' parseLiteral) and
 * OverlappingFieldsCanBeMergedRule (two fields under one response name must have equal
 * arguments). When a document's shape (its tokens with every number and string literal
 * blanked) has passed full validation before, a new document of that shape is parsed and
 * checked with those two rules only, and is not stored: the store keeps one document per
 * shape, and a stream of literal variants neither churns it nor pays for full validation.
 * A variant that fails those rules goes the ordinary way (Apollo parses and validates it in
 * full and reports the errors exactly as for any document).
 *
 * Apollo asks the store by the hash of the text only, so a plugin (`plugin()`) hands the text
 * over in `didResolveSource`, which Apollo runs right before it asks the store.
 */
import {
  Lexer,
  OverlappingFieldsCanBeMergedRule,
  Source,
  parse,
  TokenKind,
  validate,
  ValuesOfCorrectTypeRule,
  type DocumentNode,
  type GraphQLSchema,
  type ParseOptions,
  type Token,
} from 'graphql';
import type { ApolloServerPlugin, BaseContext, DocumentStore } from '@apollo/server';
import { InMemoryLRUCache } from '@apollo/utils.keyvaluecache';
import { LRUCache } from 'lru-cache';

/**
 * Heap bytes per token of a parsed document, measured with graphql 16 (Node 20, `--expose-gc`,
 * 5,000 parsed page queries of 41 and 51 tokens: 14.0 and 16.2 KB each, about 330 bytes per
 * token: the token itself, its share of AST nodes and locations, and the source text).
 */
export const HEAP_BYTES_PER_TOKEN = 330;

/** Shapes remembered as validated (each a string about as long as its query). */
const MAX_SHAPES = 2_000;

/** Estimated heap weight of a parsed document (pure). */
export function documentHeapBytes(document: DocumentNode): number {
  let tokens = 0;
  for (let token: Token | null | undefined = document.loc?.startToken; token; token = token.next) tokens++;
  // Without a token list (a document parsed with noLocation), weigh by its JSON size instead.
  if (tokens === 0) return Math.ceil(4.5 * JSON.stringify(document).length);
  return tokens * HEAP_BYTES_PER_TOKEN;
}

const LITERAL_TOKENS = new Set<string>([TokenKind.INT, TokenKind.FLOAT, TokenKind.STRING, TokenKind.BLOCK_STRING]);
const SKIPPED_TOKENS = new Set<string>([TokenKind.SOF, TokenKind.EOF, TokenKind.COMMENT]);
const shapeOf = (token: Token) => (LITERAL_TOKENS.has(token.kind) ? token.kind : (token.value ?? token.kind));

/**
 * A document's shape (pure): its tokens, with number and string literals reduced to their
 * kind (comments left out). Undefined for a document parsed without locations.
 */
export function documentShape(document: DocumentNode): string | undefined {
  const start = document.loc?.startToken;
  if (!start) return undefined;
  const parts: string[] = [];
  for (let token: Token | null = start; token; token = token.next) if (!SKIPPED_TOKENS.has(token.kind)) parts.push(shapeOf(token));
  return parts.join(' ');
}

/**
 * The same shape from the text, by the lexer alone (no AST: cheaper than parsing, which a
 * document of an unknown shape would otherwise pay twice). Undefined when the text does not
 * lex or has more than `maxTokens` tokens (Apollo's parse then reports it).
 */
export function textShape(text: string, maxTokens = Infinity): string | undefined {
  try {
    const lexer = new Lexer(new Source(text));
    const parts: string[] = [];
    for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
      if (parts.length >= maxTokens) return undefined;
      parts.push(shapeOf(token));
    }
    return parts.join(' ');
  } catch {
    return undefined;
  }
}

export class DocumentCache implements DocumentStore {
  private readonly documents: InMemoryLRUCache<DocumentNode>;
  private readonly shapes = new LRUCache<string, true>({ max: MAX_SHAPES });
  /** Query texts between `didResolveSource` and the store lookup that follows it, by hash. */
  private readonly sources = new Map<string, { text: string; schema: GraphQLSchema }>();
  /** Documents served from a known shape (for tests and metrics). */
  literalVariants = 0;

  constructor(
    maxBytes: number,
    private readonly parseOptions: ParseOptions,
  ) {
    this.documents = new InMemoryLRUCache<DocumentNode>({ maxSize: maxBytes, sizeCalculation: documentHeapBytes });
  }

  async get(key: string): Promise<DocumentNode | undefined> {
    const stored = await this.documents.get(key);
    const hash = key.slice(key.lastIndexOf(':') + 1);
    const source = this.sources.get(hash);
    this.sources.delete(hash);
    if (stored || !source) return stored;
    const shape = textShape(source.text, this.parseOptions.maxTokens);
    if (shape === undefined || !this.shapes.has(shape)) return undefined;
    let document: DocumentNode;
    try {
      document = parse(source.text, this.parseOptions);
    } catch {
      return undefined; // Apollo parses again and reports the error
    }
    if (validate(source.schema, document, [ValuesOfCorrectTypeRule, OverlappingFieldsCanBeMergedRule]).length > 0) return undefined;
    this.literalVariants++;
    return document;
  }

  /** Apollo stores a document after it passed full validation: its shape is known good from now on. */
  async set(key: string, document: DocumentNode): Promise<void> {
    const shape = documentShape(document);
    if (shape !== undefined) this.shapes.set(shape, true);
    await this.documents.set(key, document);
  }

  async delete(key: string): Promise<boolean> {
    return this.documents.delete(key);
  }

  /** Keys of the stored documents (Apollo's: schema hash prefix and SHA-256 of the text). */
  keys(): string[] {
    return this.documents.keys();
  }

  /** Hands each request's text to the store lookup Apollo makes right after `didResolveSource`. */
  plugin<T extends BaseContext>(): ApolloServerPlugin<T> {
    const sources = this.sources;
    return {
      async requestDidStart() {
        return {
          async didResolveSource({ source, queryHash, schema }) {
            // A bound, in case a lookup that should follow never comes (it always does in Apollo 5).
            if (sources.size > 1_000) sources.clear();
            sources.set(queryHash, { text: source, schema });
          },
        };
      },
    };
  }
}

/** Apollo Server's `documentStore`, or null when `maxBytes` is 0 (no cache). */
export function createDocumentStore(maxBytes: number, parseOptions: ParseOptions): DocumentCache | null {
  if (maxBytes <= 0) return null;
  return new DocumentCache(maxBytes, parseOptions);
}
