/**
 * Observability: the pino logger (logger.ts), Prometheus metrics (metrics.ts) and OpenTelemetry
 * tracing (tracing.ts). Metrics implement the small interfaces the lower rooms declare
 * (e.g. UpstreamMetrics in src/upstream/).
 */
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import type { Env } from '../config.js';
import { GatewayMetrics } from './metrics.js';
import { setupTracing, type Tracing } from './tracing.js';

export { GatewayMetrics } from './metrics.js';
export type { Tracing } from './tracing.js';

export function setupObservability(
  env: Env,
  logger: Logger,
  spanExporter: SpanExporter | undefined,
): { metrics: GatewayMetrics; tracing: Tracing | undefined } {
  const metrics = new GatewayMetrics();
  const tracing = setupTracing({ serviceName: env.OTEL_SERVICE_NAME, endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT, exporter: spanExporter });
  if (tracing && env.OTEL_EXPORTER_OTLP_ENDPOINT) logger.info({ endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT }, 'tracing: spans are exported over OTLP/HTTP');
  return { metrics, tracing };
}
