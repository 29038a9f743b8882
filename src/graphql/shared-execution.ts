/**
 * graphql-js `subscribe`, with one execution per event for all subscribers that share it.
 *
 * graphql-js executes the selection set once per event per subscriber. A feed hands the same
 * event object to every subscriber of its (identity, filter), and the transports give every
 * subscriber of the same query text the same DocumentNode (src/transports/guard.ts), so the
 * result of executing a document on an event depends only on (event, document, operation,
 * variables): it is computed once and shared. 5,000 subscribers of one screen cost one
 * execution per change, not 5,000.
 *
 * Contract: what a resolver under a Subscription payload returns depends on the record and on
 * the caller's identity only (a field that loads more from SPP uses the context's upstream
 * access, which is the identity's). The first subscriber's context then answers for the others,
 * and sharing never crosses identities: an event object belongs to one identity's feed, and
 * the records in it come from that identity's SPP answers.
 */
import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult, type DocumentNode } from 'graphql';

const results = new WeakMap<object, WeakMap<DocumentNode, Map<string, Promise<ExecutionResult> | ExecutionResult>>>();

function executeShared(args: ExecutionArgs, payload: unknown): Promise<ExecutionResult> | ExecutionResult {
  if (typeof payload !== 'object' || payload === null) return execute({ ...args, rootValue: payload });
  let byDocument = results.get(payload);
  if (!byDocument) results.set(payload, (byDocument = new WeakMap()));
  let byVariables = byDocument.get(args.document);
  if (!byVariables) byDocument.set(args.document, (byVariables = new Map<string, Promise<ExecutionResult> | ExecutionResult>()));
  const key = `${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
  let result = byVariables.get(key);
  if (!result) {
    result = execute({ ...args, rootValue: payload });
    byVariables.set(key, result);
  }
  return result;
}

export async function subscribeShared(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!isAsyncIterable(source)) return source;
  const iterator = source[Symbol.asyncIterator]();
  // A plain iterator object, not an async generator: return() must reach the source at once,
  // even while a next() is pending (a generator would queue it behind that next()).
  const mapped: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      const step = await iterator.next();
      if (step.done) return { value: undefined, done: true };
      return { value: await executeShared(args, step.value), done: false };
    },
    async return() {
      await iterator.return?.();
      return { value: undefined, done: true };
    },
    async throw(error?: unknown) {
      await iterator.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return mapped;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
