/**
 * `GET /schema.graphql`: the SDL the gateway runs (descriptions and cache hints included), for
 * consumers generating types (docs/consumers.md). Served to anyone where introspection is allowed
 * (it tells no more than introspection does); where it is off (production), only with
 * `Authorization: Bearer <SCHEMA_TOKEN>`, and not at all without a SCHEMA_TOKEN. With an ETag, so
 * a build that fetches it on every run downloads it again only after a deploy changed it.
 */
import type { Route } from './handler.js';
import { bearerMatches, sendBody, sendJsonResponse } from './handler.js';

export interface SchemaRouteOptions {
  sdl: string;
  introspection: boolean;
  token: string | undefined;
  compressionThresholdBytes: number;
}

export function schemaRoute(options: SchemaRouteOptions): Route {
  const { sdl, introspection, token, compressionThresholdBytes } = options;
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return sendJsonResponse(res, 405, { error: 'GET /schema.graphql only.' });
    }
    if (!introspection) {
      if (!token)
        return sendJsonResponse(res, 404, { error: 'The schema is not served here: introspection is off (GRAPHQL_INTROSPECTION) and no SCHEMA_TOKEN is set.' });
      if (!bearerMatches(req.headers.authorization, token)) {
        res.setHeader('www-authenticate', 'Bearer realm="schema"');
        return sendJsonResponse(res, 401, { error: 'GET /schema.graphql needs "Authorization: Bearer <SCHEMA_TOKEN>".' });
      }
    }
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    // Revalidated on every use (a 304 while unchanged); private where a token was needed.
    res.setHeader('cache-control', introspection ? 'no-cache' : 'private, no-cache');
    res.setHeader('vary', 'Authorization');
    await sendBody(req, res, 200, sdl, compressionThresholdBytes, true);
  };
}
