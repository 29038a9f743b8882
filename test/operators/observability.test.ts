/**
 * GraphQL request metrics, the operation name in the request log, /metrics behind a token or
 * on its own port, and OpenTelemetry traces (server, operation and upstream spans, with W3C
 * traceparent continued from the caller and passed on to SPP), exported in memory.
 */
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { SpanKind } from '@opentelemetry/api';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseMetrics(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)!;
      const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
      return { name: m[1]!, labels, value: Number(m[3]) };
    });
}

const value = (samples: Sample[], name: string, labels: Record<string, string>) =>
  samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === Object.keys(labels).length,
  )?.value;

const base = (h: Harness) => h.gateway.url.replace(/\/graphql$/, '');

describe('GraphQL request metrics and the request log', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sim: { size: 20 } });
  });
  afterAll(() => h.close());

  it('counts operations by name, type and outcome, times them, and counts errors by code', async () => {
    await h.gql('query Count { jobSessions(first: 1) { totalCount } }');
    await h.gql('query Count { jobSessions(first: 2) { totalCount } }');
    await h.gql('query Bad { jobSession(id: "nope") { sessionId } }');
    await h.gql('{ jobSessions(');
    await h.gql('{ jobSessions(first: 1) { totalCount } }');
    // Refused before GraphQL runs: malformed JSON.
    await fetch(h.gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    const samples = parseMetrics(await (await fetch(`${base(h)}/metrics`)).text());
    expect(value(samples, 'graphql_requests_total', { operation: 'Count', type: 'query', outcome: 'ok' })).toBe(2);
    expect(value(samples, 'graphql_requests_total', { operation: 'Bad', type: 'query', outcome: 'error' })).toBe(1);
    expect(value(samples, 'graphql_requests_total', { operation: '(anonymous)', type: 'query', outcome: 'ok' })).toBe(1);
    expect(value(samples, 'graphql_requests_total', { operation: '(invalid)', type: 'unknown', outcome: 'error' })).toBe(2);
    expect(value(samples, 'graphql_errors_total', { operation: '(invalid)', code: 'BAD_REQUEST' })).toBe(1);
    expect(value(samples, 'graphql_errors_total', { operation: 'Bad', code: 'BAD_USER_INPUT' })).toBe(1);
    expect(value(samples, 'graphql_errors_total', { operation: '(invalid)', code: 'GRAPHQL_PARSE_FAILED' })).toBe(1);
    expect(value(samples, 'graphql_request_duration_seconds_count', { operation: 'Count', type: 'query' })).toBe(2);
    expect(value(samples, 'graphql_request_duration_seconds_sum', { operation: 'Count', type: 'query' })).toBeGreaterThan(0);
  });

  it('writes the operation name in the request log line', async () => {
    h.logs.length = 0;
    await h.gql('query LoggedByName { jobSessions(first: 1) { totalCount } }', undefined, { 'x-request-id': 'log-operation-name-1' });
    const line = h.logs.map((l) => JSON.parse(l)).find((e) => e.msg === 'request' && e.requestId === 'log-operation-name-1');
    expect(line).toMatchObject({ method: 'POST', path: '/graphql', status: 200, operation: 'LoggedByName' });
  });
});

describe('/metrics access', () => {
  it('needs the bearer METRICS_TOKEN when one is set', async () => {
    const h = await startHarness({ sim: { size: 5 }, env: { METRICS_TOKEN: 'a-metrics-token-of-some-length' } });
    try {
      const without = await fetch(`${base(h)}/metrics`);
      expect(without.status).toBe(401);
      expect(without.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      expect((await fetch(`${base(h)}/metrics`, { headers: { authorization: 'Bearer wrong-token-of-the-same-len' } })).status).toBe(401);
      const withToken = await fetch(`${base(h)}/metrics`, { headers: { authorization: 'Bearer a-metrics-token-of-some-length' } });
      expect(withToken.status).toBe(200);
      expect(await withToken.text()).toMatch(/^# HELP graphql_requests_total/m);
    } finally {
      await h.close();
    }
  });

  it('moves to METRICS_PORT, off the public port', async () => {
    const h = await startHarness({ sim: { size: 5 }, env: { METRICS_PORT: '0' } });
    try {
      expect((await fetch(`${base(h)}/metrics`)).status).toBe(404);
      const port = h.gateway.metricsPort!;
      expect(port).toBeGreaterThan(0);
      expect(port).not.toBe(h.gateway.port);
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/^# HELP spp_upstream_requests_total/m);
      expect(
        (
          await fetch(`http://127.0.0.1:${port}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{"query":"{ __typename }"}',
          })
        ).status,
      ).toBe(404);
    } finally {
      await h.close();
    }
  });
});

describe('OpenTelemetry tracing', () => {
  const exporter = new InMemorySpanExporter();
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ sim: { size: 300 }, spanExporter: exporter, env: { SPP_PAGE_SIZE_CAP: '100' } });
  });
  afterAll(() => h.close());

  const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
  const CALLER_SPAN = '00f067aa0ba902b7';

  async function spansOf(traceId: string, count: number): Promise<ReadableSpan[]> {
    for (let i = 0; i < 50; i++) {
      const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
      if (spans.length >= count && spans.some((s) => s.kind === SpanKind.SERVER)) return spans;
      await new Promise((r) => setTimeout(r, 20));
    }
    return exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
  }

  it("continues the caller's trace: a server span, one span for the operation, one per upstream call, and traceparent sent to SPP", async () => {
    h.resetUpstreamCalls();
    const { status } = await h.gql('query Deep { jobSessions(first: 250) { nodes { sessionId } } }', undefined, {
      traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01`,
    });
    expect(status).toBe(200);
    const upstream = h.upstreamCalls();
    expect(upstream).toHaveLength(3);

    const spans = await spansOf(TRACE_ID, 2 + upstream.length);
    const server = spans.find((s) => s.kind === SpanKind.SERVER)!;
    const operation = spans.find((s) => s.name === 'query Deep')!;
    const clients = spans.filter((s) => s.kind === SpanKind.CLIENT && s.name === 'GET /api/endeavour/jobsession');
    expect(server).toBeDefined();
    expect(server.name).toBe('POST /graphql');
    expect(server.parentSpanContext?.spanId).toBe(CALLER_SPAN);
    expect(server.attributes['http.response.status_code']).toBe(200);
    expect(operation.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(operation.attributes).toMatchObject({ 'graphql.operation.name': 'Deep', 'graphql.operation.type': 'query' });
    expect(clients).toHaveLength(3);
    for (const client of clients) {
      expect(client.parentSpanContext?.spanId).toBe(operation.spanContext().spanId);
      expect(client.attributes['http.response.status_code']).toBe(200);
    }
    // SPP received each call's own span as its parent.
    expect(upstream.map((r) => r.traceparent).sort()).toEqual(clients.map((c) => `00-${TRACE_ID}-${c.spanContext().spanId}-01`).sort());
    // No span per field: everything in this trace is the server, the operation, SPP calls (and the login).
    expect(spans.filter((s) => s !== server && s !== operation && s.kind !== SpanKind.CLIENT)).toEqual([]);
  });

  it('starts a new trace when the caller sends none, and marks failed upstream calls as errors', async () => {
    exporter.reset();
    h.sim.failNext({ kind: 'status', status: 500 });
    const { status, body } = await h.gql('query Failing { jobSessions(first: 1) { totalCount } }');
    expect(status).toBe(502);
    expect(body.errors![0]!.extensions!.code).toBe('UPSTREAM_ERROR');
    let spans: ReadableSpan[] = [];
    for (let i = 0; i < 50 && !spans.some((s) => s.kind === SpanKind.SERVER); i++) {
      spans = exporter.getFinishedSpans();
      await new Promise((r) => setTimeout(r, 20));
    }
    const server = spans.find((s) => s.kind === SpanKind.SERVER)!;
    expect(server.parentSpanContext).toBeUndefined();
    const client = spans.find((s) => s.kind === SpanKind.CLIENT && s.name === 'GET /api/endeavour/jobsession')!;
    expect(client.attributes['http.response.status_code']).toBe(500);
    expect(client.status.code).toBe(2);
    expect(spans.find((s) => s.name === 'query Failing')!.attributes['graphql.error.codes']).toEqual(['UPSTREAM_ERROR']);
  });
});

describe('OTLP export', () => {
  it('sends the spans to OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces over OTLP/HTTP (a collector on loopback)', async () => {
    const received: Array<{ path: string; type: string; body: string }> = [];
    const collector = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        received.push({ path: req.url ?? '', type: String(req.headers['content-type']), body });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    const h = await startHarness({ sim: { size: 5 }, env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'gateway-under-test' } });
    try {
      expect((await h.gql('query Exported { jobSessions(first: 1) { totalCount } }')).status).toBe(200);
    } finally {
      // Spans are batched; stopping the gateway flushes them.
      await h.close();
      await new Promise((resolve) => collector.close(resolve));
    }
    expect(received.map((r) => r.path)).toContain('/v1/traces');
    const all = received.map((r) => r.body).join('');
    expect(all).toContain('gateway-under-test');
    expect(all).toContain('query Exported');
    expect(all).toContain('GET /api/endeavour/jobsession');
  });
});

describe('tracing of machine traffic', () => {
  it('makes no spans for health probes and metric scrapes', async () => {
    const exporter = new InMemorySpanExporter();
    const h = await startHarness({ sim: { size: 5 }, spanExporter: exporter });
    try {
      for (const path of ['/healthz', '/readyz', '/metrics']) expect((await fetch(`${base(h)}${path}`)).status).toBe(200);
      await h.gql('{ jobSessions(first: 1) { totalCount } }');
      for (let i = 0; i < 50 && !exporter.getFinishedSpans().some((s) => s.kind === SpanKind.SERVER); i++) await new Promise((r) => setTimeout(r, 20));
      expect(
        exporter
          .getFinishedSpans()
          .filter((s) => s.kind === SpanKind.SERVER)
          .map((s) => s.name),
      ).toEqual(['POST /graphql']);
      expect(exporter.getFinishedSpans().filter((s) => s.name.includes('/lifecycle/ping'))).toEqual([]);
    } finally {
      await h.close();
    }
  });
});

describe('tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT)', () => {
  it('installs nothing: SPP receives no traceparent even when the caller sends one', async () => {
    const h = await startHarness({ sim: { size: 5 } });
    try {
      await h.gql('{ jobSessions(first: 1) { totalCount } }', undefined, { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' });
      expect(h.upstreamCalls().map((r) => r.traceparent)).toEqual([undefined]);
    } finally {
      await h.close();
    }
  });
});
