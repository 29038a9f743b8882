/**
 * OpenTelemetry tracing, on only when OTEL_EXPORTER_OTLP_ENDPOINT is set (or a test passes an
 * exporter): then each HTTP request gets a server span (continuing the caller's W3C
 * `traceparent`), each GraphQL operation a span, and each upstream call to SPP a client span
 * whose context goes to SPP in `traceparent`. Never a span per field: field spans cost most of
 * a GraphQL server's throughput in published measurements, and SPP calls are where time goes.
 * Off, nothing is installed: no wrapper, no plugin, no hook, no cost.
 *
 * The provider is the gateway's own (not registered globally), so gateways in one process
 * (tests) keep their spans apart. The active span of a request is carried in an
 * AsyncLocalStorage holder that the operation span updates, because an Apollo plugin cannot
 * wrap execution in a context (batched operations of one request share the holder: their
 * upstream spans attach to whichever operation span was set last).
 */
import { codeOf } from '../errors.js';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { ExtendOptions } from 'got';

export interface TracingOptions {
  serviceName: string;
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL; spans go to `<endpoint>/v1/traces`. */
  endpoint?: string | undefined;
  /** Tests: an exporter (e.g. InMemorySpanExporter), exporting each span as it ends. */
  exporter?: SpanExporter | undefined;
}

export interface Tracing {
  tracer: Tracer;
  /** Runs an HTTP request inside its server span. */
  around(req: IncomingMessage, res: ServerResponse, handle: () => Promise<void>): Promise<void>;
  /** One span per GraphQL operation. */
  plugin<T extends BaseContext>(): ApolloServerPlugin<T>;
  /** got hooks: one client span per upstream call, `traceparent` injected. */
  upstreamHooks: ExtendOptions;
  shutdown(): Promise<void>;
}

interface ActiveContext {
  ctx: Context;
}

const headerGetter = {
  keys: (carrier: IncomingMessage['headers']) => Object.keys(carrier),
  get: (carrier: IncomingMessage['headers'], key: string) => carrier[key.toLowerCase()],
};

export function setupTracing(options: TracingOptions): Tracing | undefined {
  const exporter = options.exporter ?? (options.endpoint ? new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces` }) : undefined);
  if (!exporter) return undefined;
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: [options.exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('spp-jobsession-gateway');
  const propagator = new W3CTraceContextPropagator();
  const active = new AsyncLocalStorage<ActiveContext>();
  const upstreamSpans = new WeakMap<object, Span>();

  const endUpstream = (options: object, outcome: { status?: number; error?: Error }) => {
    const span = upstreamSpans.get(options);
    if (!span) return;
    upstreamSpans.delete(options);
    if (outcome.status !== undefined) span.setAttribute('http.response.status_code', outcome.status);
    if (outcome.error || (outcome.status ?? 0) >= 500) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error?.name ?? `HTTP ${outcome.status}` });
    }
    span.end();
  };

  return {
    tracer,
    around(req, res, handle) {
      const parent = propagator.extract(ROOT_CONTEXT, req.headers, headerGetter);
      const path = (req.url ?? '/').split('?')[0]!;
      const span = tracer.startSpan(
        `${req.method ?? 'GET'} ${path}`,
        { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method ?? 'GET', 'url.path': path } },
        parent,
      );
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        span.setAttribute('http.response.status_code', res.statusCode);
        if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      };
      res.once('finish', end);
      res.once('close', end);
      return active.run({ ctx: trace.setSpan(parent, span) }, handle);
    },
    plugin() {
      return {
        async requestDidStart({ request }) {
          const holder = active.getStore();
          if (!holder) return;
          const outer = holder.ctx;
          const span = tracer.startSpan('graphql.operation', { kind: SpanKind.INTERNAL }, outer);
          holder.ctx = trace.setSpan(outer, span);
          if (request.operationName) span.setAttribute('graphql.operation.name', request.operationName);
          return {
            async didResolveOperation({ operation }) {
              const type = operation?.operation ?? 'query';
              const name = operation?.name?.value;
              span.updateName(name ? `${type} ${name}` : type);
              span.setAttribute('graphql.operation.type', type);
              if (name) span.setAttribute('graphql.operation.name', name);
            },
            async willSendResponse({ response }) {
              const errors = response.body.kind === 'single' ? (response.body.singleResult.errors ?? []) : [];
              if (errors.length > 0) {
                span.setStatus({ code: SpanStatusCode.ERROR, message: codeOf(errors[0]!, 'error') });
                span.setAttribute('graphql.error.codes', [...new Set(errors.map((e) => codeOf(e)))]);
              }
              span.end();
              holder.ctx = outer;
            },
          };
        },
      };
    },
    upstreamHooks: {
      hooks: {
        beforeRequest: [
          (options) => {
            // A retry reuses the options: the previous attempt's span ends here.
            endUpstream(options, { error: new Error('retried') });
            // Calls made outside a caller's request (readiness probes, the start-up check, the
            // shutdown logout) are not traced: they would each start a trace of their own.
            const parent = active.getStore()?.ctx;
            if (!parent) return;
            const url = options.url instanceof URL ? options.url : new URL(String(options.url));
            const span = tracer.startSpan(
              `${options.method} ${url.pathname.replace(/\/jobsession\/[^/]+$/, '/jobsession/{id}')}`,
              { kind: SpanKind.CLIENT, attributes: { 'http.request.method': options.method, 'server.address': url.hostname, 'url.path': url.pathname } },
              parent,
            );
            upstreamSpans.set(options, span);
            propagator.inject(trace.setSpan(parent, span), options.headers, {
              set: (carrier, key, value) => ((carrier as Record<string, string>)[key] = value),
            });
          },
        ],
        afterResponse: [
          (response) => {
            endUpstream(response.request.options, { status: response.statusCode });
            return response;
          },
        ],
        beforeError: [
          (error) => {
            endUpstream(error.options, { error, ...(error.response ? { status: error.response.statusCode } : {}) });
            return error;
          },
        ],
      },
    },
    shutdown: () => provider.shutdown(),
  };
}
