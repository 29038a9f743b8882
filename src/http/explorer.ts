/**
 * The offline explorer: GraphiQL served from installed packages, so it works on SPP's isolated
 * networks (Apollo's landing page loads from a CDN and Google Fonts). GraphiQL 3 ships a UMD
 * bundle and a stylesheet with its fonts inlined; React 18 ships the UMD builds it needs. Every
 * file comes from node_modules through this gateway, and the page's Content-Security-Policy
 * forbids any other host, so no request leaves the machine.
 *
 * `GET /graphql` with `Accept: text/html` answers the page; its assets live under `/explorer/`.
 * Subscriptions run over graphql-ws to the gateway's own origin (graphql-ws's UMD bundle, served here).
 * On in development, off in production unless GRAPHQL_LANDING_PAGE=true (docs/configuration.md).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';

const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

export const EXPLORER_PREFIX = '/explorer/';

interface Asset {
  type: string;
  /** Read on first use: most gateways never serve the explorer. */
  read: () => Buffer;
}

const JS = 'text/javascript; charset=utf-8';
const fromFile = (path: () => string) => () => readFileSync(path());

// The init script is ours: kept here (not a separate file) so the compiled build needs no copy step.
// Subscriptions go over graphql-ws to this same origin (the bundle below, no CDN), one connection per
// run, authenticated with the headers of GraphiQL's header editor (as `connection_init` payload,
// since browsers cannot set headers on a WebSocket); everything else goes over HTTP as before.
const INIT_SCRIPT = `(function () {
  var root = document.getElementById('graphiql');
  var url = new URL(root.dataset.endpoint, window.location.href);
  var wsUrl = url.href.replace(/^http/, 'ws');
  var http = GraphiQL.createFetcher({ url: url.href });
  function isSubscription(params) {
    var text = String(params.query || '').replace(/#[^\\n]*/g, '');
    var name = params.operationName;
    if (name) return new RegExp('\\\\bsubscription\\\\s+' + name + '\\\\b').test(text);
    return /^\\s*subscription\\b/.test(text);
  }
  function fetcher(params, options) {
    if (!isSubscription(params)) return http(params, options);
    return {
      subscribe: function (sink) {
        var client = graphqlWs.createClient({ url: wsUrl, retryAttempts: 0, connectionParams: (options && options.headers) || {} });
        var stop = client.subscribe(params, {
          next: function (value) { sink.next(value); },
          error: function (error) {
            var message = error && error.reason ? 'WebSocket closed: ' + error.code + ' ' + error.reason : error instanceof Error ? error.message : String(error);
            sink.error(Array.isArray(error) ? { errors: error } : new Error(message));
          },
          complete: function () { sink.complete(); }
        });
        return { unsubscribe: function () { stop(); client.dispose(); } };
      }
    };
  }
  var defaultQuery = '# SPP job sessions: the newest first. Press the run button (or Ctrl-Enter).\\n' +
    '# Headers (below) take "Authorization": "Bearer <token>" when the gateway asks for one.\\n' +
    '# Subscriptions run too (over a WebSocket to this gateway), e.g.\\n' +
    '#   subscription Live { jobSessionEvents { kind sessionId at cursor session { status percent } } }\\n' +
    'query Newest {\\n  jobSessions(first: 10) {\\n    totalCount\\n    nodes { sessionId jobName type status start duration }\\n    pageInfo { hasNextPage endCursor }\\n  }\\n}\\n';
  ReactDOM.createRoot(root).render(React.createElement(GraphiQL, { fetcher: fetcher, defaultQuery: defaultQuery, defaultEditorToolsVisibility: true, shouldPersistHeaders: false }));
})();
`;

const ASSETS = new Map<string, Asset>([
  ['graphiql.min.css', { type: 'text/css; charset=utf-8', read: fromFile(() => join(packageDir('graphiql'), 'graphiql.min.css')) }],
  ['graphiql.min.js', { type: JS, read: fromFile(() => join(packageDir('graphiql'), 'graphiql.min.js')) }],
  ['react.production.min.js', { type: JS, read: fromFile(() => join(dirname(require.resolve('react')), 'umd', 'react.production.min.js')) }],
  ['react-dom.production.min.js', { type: JS, read: fromFile(() => join(dirname(require.resolve('react-dom')), 'umd', 'react-dom.production.min.js')) }],
  ['graphql-ws.min.js', { type: JS, read: fromFile(() => join(packageDir('graphql-ws'), 'umd', 'graphql-ws.min.js')) }],
  ['init.js', { type: JS, read: () => Buffer.from(INIT_SCRIPT) }],
]);

/** Everything the page may load comes from here; inline styles are GraphiQL's own (its editors set them). */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function page(graphqlPath: string): string {
  const endpoint = graphqlPath.replace(/^\//, '');
  // Asset URLs are relative, so the page also works behind a reverse proxy that adds a path prefix.
  const base = `${EXPLORER_PREFIX.slice(1)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SPP job sessions: GraphiQL</title>
<link rel="stylesheet" href="${base}graphiql.min.css">
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql" data-endpoint="${endpoint}">Loading GraphiQL…</div>
<script src="${base}react.production.min.js"></script>
<script src="${base}react-dom.production.min.js"></script>
<script src="${base}graphiql.min.js"></script>
<script src="${base}graphql-ws.min.js"></script>
<script src="${base}init.js"></script>
</body>
</html>
`;
}

export interface Explorer {
  /** True when this request asks for the page (a browser navigating to the GraphQL URL). */
  wantsPage(req: IncomingMessage, url: URL): boolean;
  servePage(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Serves `/explorer/<name>`; false when no such asset. */
  serveAsset(name: string, req: IncomingMessage, res: ServerResponse): boolean;
}

type Send = (req: IncomingMessage, res: ServerResponse, status: number, body: Buffer) => Promise<void>;

export function createExplorer(graphqlPath: string, send: Send): Explorer {
  const reply = (req: IncomingMessage, res: ServerResponse, headers: Record<string, string>, body: Buffer) => {
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    return send(req, res, 200, body);
  };
  const html = Buffer.from(page(graphqlPath));
  const loaded = new Map<string, Buffer>();
  return {
    wantsPage(req, url) {
      const accept = String(req.headers.accept ?? '');
      return (req.method === 'GET' || req.method === 'HEAD') && url.search === '' && /\btext\/html\b/i.test(accept);
    },
    servePage(req, res) {
      return reply(
        req,
        res,
        { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' },
        html,
      );
    },
    serveAsset(name, req, res) {
      const asset = ASSETS.get(name);
      if (!asset) return false;
      let body = loaded.get(name);
      if (!body) loaded.set(name, (body = asset.read()));
      void reply(req, res, { 'content-type': asset.type, 'cache-control': 'public, max-age=86400', 'x-content-type-options': 'nosniff' }, body).catch(() =>
        res.destroy(),
      );
      return true;
    },
  };
}
