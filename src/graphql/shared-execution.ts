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
 * Contract: what a resolver under a Subscription payload returns depends on the record, on
 * the caller's identity (a field that loads more from SPP uses the context's upstream access,
 * which is the identity's) and on the caller's roles (`availableActions`). The first subscriber's
 * context then answers for the others with the same roles, and sharing never crosses identities:
 * an event object belongs to one identity's feed, and the records in it come from that
 * identity's SPP answers.
 *
 * Each event executes with upstream loaders of its own (`freshUpstream`): a subscriber's context
 * lives as long as its subscription, and loaders kept with it would answer `session.job` with
 * what they read for the first event, for hours (issue 22, item 9).
 */
import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult, type DocumentNode } from 'graphql';
import type { RequestContext } from './context.js';
import { rolesKey } from '../identity/caller.js';

const results = new WeakMap<object, WeakMap<DocumentNode, Map<string, Promise<ExecutionResult> | ExecutionResult>>>();

/** The context one event executes with: the subscriber's, with new upstream loaders. */
function eventContext(context: unknown): unknown {
  const fresh = (context as Partial<RequestContext> | undefined)?.freshUpstream;
  return fresh ? { ...(context as RequestContext), upstream: fresh() } : context;
}

/** What decides an answer besides the identity: the caller's roles ('' for contexts without callers); undefined when the caller is refused (then nothing is shared). */
function rolesOf(context: unknown): string | undefined {
  const gateway = context as Partial<RequestContext> | undefined;
  if (!gateway?.caller) return '';
  try {
    return rolesKey(gateway.caller().actor);
  } catch {
    return undefined;
  }
}

function executeShared(args: ExecutionArgs, payload: unknown): Promise<ExecutionResult> | ExecutionResult {
  const once = () => execute({ ...args, contextValue: eventContext(args.contextValue), rootValue: payload });
  const roles = rolesOf(args.contextValue);
  if (typeof payload !== 'object' || payload === null || roles === undefined) return once();
  let byDocument = results.get(payload);
  if (!byDocument) results.set(payload, (byDocument = new WeakMap()));
  let byVariables = byDocument.get(args.document);
  if (!byVariables) byDocument.set(args.document, (byVariables = new Map<string, Promise<ExecutionResult> | ExecutionResult>()));
  const key = `${roles}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
  let result = byVariables.get(key);
  if (!result) {
    result = once();
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
