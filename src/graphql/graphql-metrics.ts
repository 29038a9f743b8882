/**
 * GraphQL request metrics (an Apollo plugin): count, duration and errors by operation name and
 * error code, on the gateway's /metrics. Operation names come from clients, so the label set
 * is bounded: names must look like GraphQL names, and past `maxOperations` distinct names the
 * rest count as `(other)`. Anonymous operations are `(anonymous)`; documents that never
 * resolved to an operation (parse or validation errors) are `(invalid)`.
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { codeOf } from '../errors.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { ClientInfo } from '../identity/consumer.js';

/** Who sent a request, for the consumer and client metrics. */
export type Describe<T> = (context: T) => { consumer: string; client: ClientInfo };

const NAME = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/;

export function graphqlMetricsPlugin<T extends BaseContext>(metrics: GatewayMetrics, maxOperations = 200, describe?: Describe<T>): ApolloServerPlugin<T> {
  const known = new Set<string>();
  const label = (name: string | null | undefined, resolved: boolean): string => {
    if (!resolved) return '(invalid)';
    if (!name) return '(anonymous)';
    if (!NAME.test(name)) return '(other)';
    if (known.has(name)) return name;
    if (known.size >= maxOperations) return '(other)';
    known.add(name);
    return name;
  };
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ operation, operationName, response, errors, contextValue }) {
          const name = label(operation?.name?.value ?? operationName, operation !== undefined && operation !== null);
          const type = operation?.operation ?? 'unknown';
          const failed = (errors?.length ?? 0) > 0 || (response.body.kind === 'single' && (response.body.singleResult.errors?.length ?? 0) > 0);
          metrics.graphqlRequests.inc({ operation: name, type, outcome: failed ? 'error' : 'ok' });
          if (describe) {
            const { consumer, client } = describe(contextValue);
            metrics.consumerRequests.inc({ consumer: metrics.consumerLabels.of(consumer), outcome: failed ? 'error' : 'ok' });
            metrics.clientRequests.inc({ client: metrics.clientLabels.of(client.name), client_version: metrics.clientVersionLabels.of(client.version) });
          }
          metrics.graphqlDuration.observe({ operation: name, type }, Number(process.hrtime.bigint() - started) / 1e9);
          if (response.body.kind === 'single') {
            for (const error of response.body.singleResult.errors ?? []) {
              metrics.graphqlErrors.inc({ operation: name, code: codeOf(error) });
            }
          }
        },
      };
    },
  };
}
