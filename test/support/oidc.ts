/**
 * A real OpenID provider for tests: `oidc-provider` (a certified implementation), in process on
 * a loopback port. It issues JWT access tokens by the client-credentials grant (services) and
 * signs people in through its development login form (the browser code flow).
 *
 * Clients: `ops-service` (realm role spp-operators), `report-service` (spp-viewers),
 * `no-role-service` (none), and the gateway's own `gateway` (code flow). People: any login name;
 * `alice` is an operator, everyone else a viewer (Keycloak-style `realm_access.roles`).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { type Configuration } from 'oidc-provider';

export const AUDIENCE = 'urn:spp-gateway';
export const GATEWAY_CLIENT = { id: 'gateway', secret: 'gateway-client-secret-0123456789' };
const SERVICES: Record<string, string[]> = { 'ops-service': ['spp-operators'], 'report-service': ['spp-viewers'], 'no-role-service': ['other-app'] };
const SERVICE_SECRET = 'service-secret-0123456789abcdef';

export async function signingKey(kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
}

export interface TestProvider {
  issuer: string;
  /** A JWT access token for a service client (client credentials); `resource` picks the audience. */
  serviceToken(client: keyof typeof SERVICES, options?: { resource?: string }): Promise<string>;
  /** Signs with these keys from now on (the first signs); the old ones may stay published. */
  rotate(keys: JWK[]): void;
  /** Where the gateway's code flow comes back to. */
  setRedirectUris(uris: string[]): void;
  /** Token lifetime for service tokens, seconds. */
  setTokenTtl(seconds: number): void;
  close(): Promise<void>;
}

/** Starts the provider; `keys` defaults to one fresh RSA key. `issuerOverride` serves another issuer name from the same keys. */
export async function startProvider(options: { keys?: JWK[] } = {}): Promise<TestProvider> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let keys = options.keys ?? [await signingKey('key-1')];
  let redirectUris = ['http://127.0.0.1:1/auth/oidc/callback'];
  let ttl = 600;

  const build = () => {
    const configuration: Configuration = {
      clients: [
        ...Object.keys(SERVICES).map((id) => ({
          client_id: id,
          client_secret: SERVICE_SECRET,
          grant_types: ['client_credentials'],
          redirect_uris: [],
          response_types: [],
        })),
        {
          client_id: GATEWAY_CLIENT.id,
          client_secret: GATEWAY_CLIENT.secret,
          redirect_uris: redirectUris,
          grant_types: ['authorization_code'],
          response_types: ['code'],
        },
      ],
      jwks: { keys },
      cookies: { keys: ['test-cookie-key-0123456789'] },
      claims: { openid: ['sub'], profile: ['name'], email: ['email'], roles: ['realm_access'] },
      scopes: ['openid', 'profile', 'email', 'roles'],
      conformIdTokenClaims: false,
      findAccount: (_ctx, id) => ({
        accountId: id,
        claims: () => ({
          sub: id,
          name: `${id[0]!.toUpperCase()}${id.slice(1)} Example`,
          email: `${id}@example.com`,
          realm_access: { roles: [id === 'alice' ? 'spp-operators' : 'spp-viewers'] },
        }),
      }),
      features: {
        devInteractions: { enabled: true },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => AUDIENCE,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx, resource) => ({
            audience: resource,
            scope: 'jobs',
            accessTokenFormat: 'jwt',
            accessTokenTTL: ttl,
            jwt: { sign: { alg: 'RS256' } },
          }),
        },
      },
      extraTokenClaims: (_ctx, token) => {
        const client = (token as { clientId?: string }).clientId;
        return client && SERVICES[client] ? { realm_access: { roles: SERVICES[client] } } : undefined;
      },
      pkce: { required: () => true },
    };
    const provider = new Provider(issuer, configuration);
    // The provider's own logs would go to stderr on every refused request in these tests.
    provider.on('server_error', () => undefined);
    return provider.callback();
  };
  let handler = build();
  server.on('request', (req, res) => void handler(req, res));

  return {
    issuer,
    async serviceToken(client, tokenOptions = {}) {
      const body = new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'jobs',
        ...(tokenOptions.resource ? { resource: tokenOptions.resource } : {}),
      });
      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${client}:${SERVICE_SECRET}`).toString('base64')}`,
        },
        body,
      });
      const answer = (await response.json()) as { access_token?: string; error?: string; error_description?: string };
      if (!answer.access_token) throw new Error(`the provider issued no token: ${answer.error}: ${answer.error_description}`);
      return answer.access_token;
    },
    rotate(next) {
      keys = next;
      handler = build();
    },
    setRedirectUris(uris) {
      redirectUris = uris;
      handler = build();
    },
    setTokenTtl(seconds) {
      ttl = seconds;
      handler = build();
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
