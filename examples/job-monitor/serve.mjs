/**
 * Serves the built app (dist/) and its config.json ({ "gatewayUrl": ... }, no credential: people
 * sign in) on its own port: another origin than the gateway, as a CDN would.
 * `node serve.mjs [--port 5173] [--gateway http://localhost:4000/graphql]`; the browser tests import serveApp().
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import http from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export const DIST = fileURLToPath(new URL('./dist/', import.meta.url));

/** @param {{ gatewayUrl: string; port?: number; host?: string; root?: string }} options */
export async function serveApp({ gatewayUrl, port = 0, host = '127.0.0.1', root = DIST }) {
  if (!existsSync(join(root, 'index.html'))) throw new Error(`${root} has no index.html: build the app first (npm run build --prefix examples/job-monitor)`);
  const config = JSON.stringify({ gatewayUrl });
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path === '/config.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      return res.end(config);
    }
    const file = normalize(join(root, path === '/' ? 'index.html' : path));
    if (!file.startsWith(resolve(root)) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end('not found');
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise((done) => server.listen(port, host, done));
  const address = server.address();
  const url = `http://${host === '0.0.0.0' ? 'localhost' : host}:${address.port}/`;
  return {
    url,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : fallback;
  };
  const app = await serveApp({
    gatewayUrl: arg('gateway', 'http://localhost:4000/graphql'),
    port: Number(arg('port', '5173')),
    host: arg('host', 'localhost'),
  });
  console.log(`Job monitor at ${app.url} (gateway ${arg('gateway', 'http://localhost:4000/graphql')})`);
}
