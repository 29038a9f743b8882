/**
 * Child process of `npm run bench:servers` (bench/multi-server.ts): N simulated SPP sites in
 * ONE process and event loop, each on its own loopback port, and a control port that counts
 * each site's requests (job-session list reads, and all).
 *
 * Latency is a deadline, not a pause: each simulator runs with latency 0 and answers at once,
 * and its answer is held until BENCH_SPP_LATENCY_MS after the request arrived (by a timer, no
 * CPU while it waits). The simulator's own work (slicing its cached order, writing 26 sessions as
 * JSON: 0.3-0.5 ms of CPU, measured) therefore happens inside the latency, as an appliance's work happens
 * on its own CPUs, instead of after it, where three simulators woken at the same moment competed
 * with the gateway for this machine's two cores and delayed the three-server page by their CPU,
 * not the gateway's.
 *
 * Environment: BENCH_SITES (default 3), BENCH_SPP_LATENCY_MS (default 20). Prints one line,
 * `Sites ready: <control url> <site url>...`, which procs.ts's startSites reads.
 */
import { subscribe } from 'node:diagnostics_channel';
import { Server, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startSimulator } from '../src/simulator/server.js';

const SITES = Number(process.env.BENCH_SITES ?? 3);
const LATENCY_MS = Number(process.env.BENCH_SPP_LATENCY_MS ?? 20);
const LIST_PATH = '/api/endeavour/jobsession';

/** Per site (by its port): job-session list GETs, and requests of any kind (logins, pings…), for the control port. */
const reads = new Map<number, number>();
const requests = new Map<number, number>();
const ports: number[] = [];
const control = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ lists: ports.map((port) => reads.get(port) ?? 0), all: ports.map((port) => requests.get(port) ?? 0) }));
});

// Node's own hook for every request an http.Server of this process starts, before the handler runs.
subscribe('http.server.request.start', (message) => {
  const { request, response, server } = message as { request: IncomingMessage; response: ServerResponse; server: Server };
  if (server === control) return;
  const port = (server.address() as AddressInfo).port;
  requests.set(port, (requests.get(port) ?? 0) + 1);
  if (request.method === 'GET' && request.url?.split('?')[0] === LIST_PATH) reads.set(port, (reads.get(port) ?? 0) + 1);
  const due = performance.now() + LATENCY_MS;
  const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
  // The simulator writes its head and body in one synchronous `end`; nothing reaches the socket before it.
  response.end = ((...args: unknown[]) => {
    if (performance.now() >= due) return end(...args);
    // Node's timers count whole milliseconds from the loop's cached clock, so a bare timer answered
    // up to 1 ms early or late, each site independently: a three-server page waited for the latest
    // of three. A timer to within 1 ms of the deadline, then the loop's check phase until it passes,
    // answers every site at its deadline (within about 0.05 ms).
    const poll = (): unknown => (performance.now() >= due ? end(...args) : setImmediate(poll));
    setTimeout(poll, Math.max(0, Math.floor(due - performance.now()) - 1));
    return response;
  }) as ServerResponse['end'];
});

// Each site's handler runs only after every request that arrived with it has been stamped (above):
// the sites share one event loop, and a handler run at once (0.3-0.5 ms of CPU for a list read)
// held back the stamp, and so the deadline, of the requests read after it. The gateway writes a
// page's three requests within 0.1-0.5 ms, which three appliances would take in parallel;
// handled in turn, the third site's clock started about 1.1 ms late (measured, bench/RESULTS.md).
// The original is kept to be called with each server as `this` (Reflect.apply), never unbound.
// eslint-disable-next-line @typescript-eslint/unbound-method
const emit = Server.prototype.emit;
Server.prototype.emit = function (this: Server, event: string | symbol, ...args: unknown[]): boolean {
  if (event !== 'request' || this === control) return Reflect.apply(emit, this, [event, ...args]) as boolean;
  setImmediate(() => Reflect.apply(emit, this, [event, ...args]));
  return true;
};

const sims = await Promise.all(
  Array.from({ length: SITES }, (_, i) => startSimulator({ host: '127.0.0.1', port: 0, seed: i + 1, latency: { fixedMs: 0, jitterMs: 0 } })),
);
ports.push(...sims.map((s) => s.port));
await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
process.stdout.write(`Sites ready: http://127.0.0.1:${(control.address() as AddressInfo).port} ${sims.map((s) => s.url).join(' ')}\n`);

const stop = (): void => {
  control.close();
  void Promise.all(sims.map((s) => s.close())).then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
