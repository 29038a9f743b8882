import { describe, expect, it } from 'vitest';
import { graphqlMetricsPlugin } from '../../src/graphql/graphql-metrics.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';

describe('graphqlMetricsPlugin', () => {
  it('bounds the operation label: past the limit, and for names that are not GraphQL names, it counts (other)', async () => {
    const metrics = new GatewayMetrics({ collectDefaults: false });
    const plugin = graphqlMetricsPlugin(metrics, 2);
    for (const name of ['First', 'Second', 'Third', 'First', 'not a name']) {
      const hooks = await plugin.requestDidStart!({} as never);
      await hooks!.willSendResponse!({
        operation: { operation: 'query', name: { value: name } },
        operationName: name,
        response: { body: { kind: 'single', singleResult: { data: {} } } },
      } as never);
    }
    const counts = Object.fromEntries((await metrics.graphqlRequests.get()).values.map((v) => [String(v.labels.operation), v.value]));
    expect(counts).toEqual({ First: 2, Second: 1, '(other)': 2 });
  });
});

describe('consumer and client labels', () => {
  it('counts each consumer and client by name, at most the bound of distinct names, the rest and non-names as (other)', async () => {
    const metrics = new GatewayMetrics({ collectDefaults: false });
    const plugin = graphqlMetricsPlugin<{ who: string; client?: string }>(metrics, 200, (context) => ({
      consumer: context.who,
      client: context.client ? { name: context.client, version: '1.0' } : {},
    }));
    const many = Array.from({ length: 205 }, (_, i) => `key-${i}`);
    for (const who of [...many, 'key-0', 'bad\u0000name']) {
      const hooks = await plugin.requestDidStart!({} as never);
      await hooks!.willSendResponse!({
        contextValue: { who, ...(who === 'key-0' ? { client: 'billing-report' } : {}) },
        operation: { operation: 'query', name: { value: 'Q' } },
        response: { body: { kind: 'single', singleResult: { data: {} } } },
      } as never);
    }
    const consumers = (await metrics.consumerRequests.get()).values;
    expect(consumers).toHaveLength(201);
    expect(consumers.find((v) => v.labels.consumer === 'key-0')?.value).toBe(2);
    expect(consumers.find((v) => v.labels.consumer === '(other)')?.value).toBe(6);
    const clients = Object.fromEntries((await metrics.clientRequests.get()).values.map((v) => [`${v.labels.client}@${v.labels.client_version}`, v.value]));
    expect(clients).toEqual({ '(none)@(none)': 205, 'billing-report@1.0': 2 });
  });
});
