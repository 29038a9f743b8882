/**
 * Identical GraphQL requests in flight at the same moment, from the same identity, are
 * executed once and their response shared: the "hundred dashboards polling what is running
 * now" case costs one execution, not a hundred (the upstream GET under it is shared anyway
 * by the SPP client's single flight; this spares the gateway's own work too).
 *
 * Only queries are shared: whether the leader's operation was a query is known once Apollo
 * resolved it (`operationTypePlugin`); followers of anything else execute on their own.
 * The key holds the identity, consumer and roles (`sharingKey` in src/identity/consumer.ts: keyed
 * hashes and names, never a secret), the method, the query string, the headers that change the
 * answer (Accept, Content-Type, CSRF preflight) and the body.
 */
import type { IncomingMessage } from 'node:http';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';

export interface BufferedResponse {
  status: number;
  headers: Array<[string, string]>;
  body: string;
}

/**
 * The context field `operationTypePlugin` fills in. An object, not a plain field: Apollo runs
 * each operation on a shallow copy of the context, and only a shared object is seen back here.
 */
export interface OperationTypeHolder {
  operation: { type?: 'query' | 'mutation' | 'subscription'; name?: string | undefined };
}

export function operationTypePlugin<T extends BaseContext & OperationTypeHolder>(): ApolloServerPlugin<T> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, contextValue }) {
          if (operation) contextValue.operation.type = operation.operation;
          contextValue.operation.name = operation?.name?.value;
        },
      };
    },
  };
}

const VARYING_HEADERS = ['accept', 'content-type', 'apollo-require-preflight', 'x-apollo-operation-name'];

/** The sharing key of a request, or undefined when it must not be shared (no identity, a batch). */
export function requestKey(identity: string | undefined, req: IncomingMessage, search: string, bodyText: string | undefined): string | undefined {
  if (identity === undefined || (bodyText !== undefined && bodyText.trimStart().startsWith('['))) return undefined;
  const varying = VARYING_HEADERS.map((name) => String(req.headers[name] ?? '')).join('\u0001');
  return [identity, req.method, search, varying, bodyText ?? ''].join('\u0000');
}

export class IdenticalRequests {
  private readonly inflight = new Map<string, Promise<BufferedResponse | null>>();

  constructor(private readonly onJoin: () => void = () => undefined) {}

  /**
   * Runs `execute`, unless an identical request is in flight: then waits for it and reuses its
   * response when it was shareable, or executes after all when it was not.
   */
  async run(key: string | undefined, execute: () => Promise<{ response: BufferedResponse; shareable: boolean }>): Promise<BufferedResponse> {
    if (key === undefined) return (await execute()).response;
    const leader = this.inflight.get(key);
    if (leader) {
      const shared = await leader;
      if (shared) {
        this.onJoin();
        return shared;
      }
      return (await execute()).response;
    }
    let settle: (response: BufferedResponse | null) => void = () => undefined;
    this.inflight.set(key, new Promise((resolve) => (settle = resolve)));
    try {
      const { response, shareable } = await execute();
      settle(shareable ? response : null);
      return response;
    } catch (error) {
      settle(null);
      throw error;
    } finally {
      this.inflight.delete(key);
    }
  }
}
