/**
 * `npm run bench:client`: CPU per upstream GET of the HTTP client, in this process, against the
 * simulator (SPP 0 ms, pageSize 1, 10 at a time): got configured as src/upstream/spp-client.ts
 * configures it (timeouts, retry, hooks), with the query string as `searchParams` and as text;
 * got with no options; plain node:http. What got costs per request is what the chosen client
 * leaves on the table (issue 8); it measures the client alone, not the gateway.
 */
import http from 'node:http';
import got from 'got';
import { startSimulator, stopAll } from './procs.js';
const sim = await startSimulator('sim', { latencyMs: 0 });
const login = await got
  .post(`${sim.base}/api/endeavour/session`, { headers: { authorization: `Basic ${Buffer.from('admin:admin-password').toString('base64')}` } })
  .json<{ sessionid: string }>();
const agent = new http.Agent({ keepAlive: true, maxSockets: 32, noDelay: true });
const full = got.extend({
  prefixUrl: `${sim.base}/api`,
  agent: { http: agent },
  timeout: { lookup: 5000, connect: 5000, secureConnect: 5000, response: 30000 },
  headers: { accept: 'application/json', 'user-agent': 'x' },
  retry: { limit: 2, methods: ['GET'], statusCodes: [502, 503, 504], errorCodes: ['ECONNRESET'], calculateDelay: ({ computedValue }) => computedValue },
  hooks: { beforeRetry: [() => undefined] },
});
const bare = got.extend({ prefixUrl: `${sim.base}/api`, agent: { http: agent } });
const sort = JSON.stringify([{ property: 'start', direction: 'DESC' }]);
const variants: Record<string, (i: number) => Promise<unknown>> = {
  'got, gateway options, searchParams': (i) => {
    const s = new URLSearchParams();
    s.set('pageStartIndex', String(i % 50));
    s.set('pageSize', '1');
    s.set('sort', sort);
    return full.get('endeavour/jobsession', { searchParams: s, headers: { 'x-endeavour-sessionid': login.sessionid } }).json();
  },
  'got, gateway options, URL text (the gateway)': (i) => {
    const s = new URLSearchParams();
    s.set('pageStartIndex', String(i % 50));
    s.set('pageSize', '1');
    s.set('sort', sort);
    return full.get(`endeavour/jobsession?${s.toString()}`, { headers: { 'x-endeavour-sessionid': login.sessionid } }).json();
  },
  'got, no options': (i) =>
    bare
      .get('endeavour/jobsession', { searchParams: { pageStartIndex: i % 50, pageSize: 1, sort }, headers: { 'x-endeavour-sessionid': login.sessionid } })
      .json(),
  'node:http': (i) =>
    new Promise((resolve, reject) => {
      const s = new URLSearchParams();
      s.set('pageStartIndex', String(i % 50));
      s.set('pageSize', '1');
      s.set('sort', sort);
      http
        .get(
          `${sim.base}/api/endeavour/jobsession?${s.toString()}`,
          { agent, headers: { 'x-endeavour-sessionid': login.sessionid, accept: 'application/json' } },
          (res) => {
            const c: Buffer[] = [];
            res.on('data', (d) => c.push(d));
            res.on('end', () => resolve(JSON.parse(Buffer.concat(c).toString())));
          },
        )
        .on('error', reject);
    }),
};
const N = 1500;
console.log(`CPU per upstream GET (user + system of this process), ${N} GETs per variant after 200 of warm-up, second of two rounds:`);
for (let round = 0; round < 2; round++)
  for (const [name, fn] of Object.entries(variants)) {
    for (let i = 0; i < 200; i++) await fn(i);
    const c0 = process.cpuUsage();
    for (let i = 0; i < N; i += 10) await Promise.all(Array.from({ length: 10 }, (_, k) => fn(i + k)));
    const c = process.cpuUsage(c0);
    if (round === 1) console.log(name.padEnd(46), ((c.user + c.system) / N / 1000).toFixed(3), 'ms CPU per GET');
  }
await stopAll();
process.exit(0);
