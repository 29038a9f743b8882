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
