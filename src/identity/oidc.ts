/**
 * OpenID Connect bearer tokens (OIDC_ISSUER): JWTs from mobile apps and services, verified with
 * `jose`. The issuer's metadata is discovered from its /.well-known/openid-configuration, its
 * signing keys fetched from its `jwks_uri` and cached; a token signed with a key the cache does
 * not hold makes jose fetch the set again (at most once per OIDC_JWKS_COOLDOWN_MS), so a key the
 * provider rotated in is accepted without a restart.
 *
 * Checked: the signature, with an algorithm from OIDC_ALGORITHMS only (asymmetric; `none` is never
 * accepted by jwtVerify), `iss` (exactly OIDC_ISSUER as discovered), `aud` (OIDC_AUDIENCE, else
 * OIDC_CLIENT_ID), `exp` and `nbf` with OIDC_CLOCK_SKEW_S of tolerance.
 *
 * Verification needs the network the first time, so the front doors await `prepare` (via
 * Authenticator.prepare); the outcome is kept per token (until its `exp`) and read synchronously.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { LRUCache } from 'lru-cache';
import type { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { ErrorCode, forbidden, gatewayError, unauthenticated } from '../errors.js';
import type { Caller, Role } from './caller.js';

export interface OidcSettings {
  issuer: string;
  /** Expected `aud`. */
  audience: string;
  /** The gateway's own client (browser sign-in). */
  clientId?: string;
  clientSecret?: string;
  algorithms: string[];
  clockSkewS: number;
  /** Dotted path of the claim holding groups or roles (realm_access.roles). */
  rolesClaim: string;
  /** Claim value → gateway role; empty: the values `viewer` and `operator` themselves. */
  roleMap: Map<string, Role>;
  jwksCooldownMs: number;
}

export interface OidcMetadata {
  issuer: string;
  jwks_uri: string;
  authorization_endpoint?: string;
  token_endpoint?: string;
  end_session_endpoint?: string;
}

/** ROLE_MAP `spp-operators=operator,spp-viewers=viewer`. */
export function parseRoleMap(text: string | undefined): Map<string, Role> {
  const map = new Map<string, Role>();
  for (const pair of (text ?? '').split(',')) {
    const [value, role] = pair.split('=').map((s) => s.trim());
    if (value && (role === 'viewer' || role === 'operator')) map.set(value, role);
  }
  return map;
}

/** The claim at a dotted path (`realm_access.roles`), as a list of strings (arrays, or space- or comma-separated text). */
export function claimValues(payload: Record<string, unknown>, path: string): string[] {
  let value: unknown = payload;
  for (const part of path.split('.')) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  if (typeof value === 'string') return value.split(/[\s,]+/).filter(Boolean);
  return [];
}

/** The gateway roles a token's claim grants; operator includes viewer. */
export function rolesOf(payload: Record<string, unknown>, path: string, roleMap: Map<string, Role>): Role[] {
  const granted = new Set<Role>();
  for (const value of claimValues(payload, path)) {
    const role = roleMap.size > 0 ? roleMap.get(value) : value === 'viewer' || value === 'operator' ? value : undefined;
    if (role) granted.add(role);
  }
  if (granted.has('operator')) return ['viewer', 'operator'];
  return granted.has('viewer') ? ['viewer'] : [];
}

/** What a verified token says about its holder. */
export interface OidcPerson {
  sub: string;
  display?: string;
  roles: Role[];
  /** The OAuth client of a service's own token (client credentials), else undefined (a person). */
  client?: string;
}

export function personOf(payload: JWTPayload, settings: Pick<OidcSettings, 'rolesClaim' | 'roleMap'>): OidcPerson {
  const p = payload as Record<string, unknown>;
  const str = (name: string) => (typeof p[name] === 'string' && p[name] !== '' ? p[name] : undefined);
  const display = str('name') ?? str('email') ?? str('preferred_username');
  const client = str('client_id') ?? str('azp');
  // A person's token names the person; a client-credentials token names only its client.
  const isService = client !== undefined && str('email') === undefined && str('name') === undefined;
  return {
    sub: payload.sub ?? client ?? 'unknown',
    ...(display ? { display } : {}),
    roles: rolesOf(p, settings.rolesClaim, settings.roleMap),
    ...(isService ? { client } : {}),
  };
}

type Verified = { person: OidcPerson } | { error: GraphQLError };

const looksLikeJwt = (token: string) => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(token);

export class OidcBearer {
  private metadata: Promise<OidcMetadata> | undefined;
  private jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  private readonly verified = new LRUCache<string, Verified>({ max: 10_000, ttl: 5 * 60_000 });

  constructor(
    readonly settings: OidcSettings,
    private readonly logger: Logger,
  ) {}

  /** The issuer's discovered metadata (fetched once; a failure is tried again on the next call). */
  discover(): Promise<OidcMetadata> {
    this.metadata ??= (async () => {
      const url = `${this.settings.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
      const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (!response.ok) throw new Error(`${url} answered ${response.status}`);
      const metadata = (await response.json()) as OidcMetadata;
      if (metadata.issuer !== this.settings.issuer) throw new Error(`${url} names issuer ${JSON.stringify(metadata.issuer)}, not OIDC_ISSUER`);
      if (typeof metadata.jwks_uri !== 'string') throw new Error(`${url} has no jwks_uri`);
      this.jwks = createRemoteJWKSet(new URL(metadata.jwks_uri), { cooldownDuration: this.settings.jwksCooldownMs, timeoutDuration: 5_000 });
      return metadata;
    })().catch((error: unknown) => {
      this.metadata = undefined;
      throw error;
    });
    return this.metadata;
  }

  /** The bearer JWT in the headers, or undefined. */
  tokenOf(headers: IncomingHttpHeaders): string | undefined {
    const match = /^bearer\s+(\S+)$/i.exec(typeof headers.authorization === 'string' ? headers.authorization.trim() : '');
    return match && looksLikeJwt(match[1]!) ? match[1] : undefined;
  }

  /** Verifies the request's bearer JWT (when it has one) so that `lookup` can answer. */
  async prepare(headers: IncomingHttpHeaders): Promise<void> {
    const token = this.tokenOf(headers);
    if (token === undefined || this.verified.has(token)) return;
    const outcome = await this.verify(token);
    // Kept until the token expires (at most five minutes); a refusal for a minute.
    const ttl = 'person' in outcome ? Math.min(5 * 60_000, Math.max(1, this.expiresInMs(token))) : 60_000;
    this.verified.set(token, outcome, { ttl });
  }

  /** The verified outcome of a token `prepare` saw, or undefined when it was not prepared. */
  lookup(token: string): Verified | undefined {
    return this.verified.get(token);
  }

  caller(person: OidcPerson, key: string): Caller {
    return {
      key,
      consumer: person.client ? `oidc:${person.client}` : 'oidc-user',
      kind: 'oidc',
      subject: person.sub,
      ...(person.display ? { displayName: person.display } : {}),
      roles: person.roles,
      name: person.sub,
      anonymous: false,
    };
  }

  async verify(token: string): Promise<Verified> {
    let metadata: OidcMetadata;
    try {
      metadata = await this.discover();
    } catch (error) {
      this.logger.error({ err: error, issuer: this.settings.issuer }, 'the OIDC issuer cannot be discovered: bearer JWTs are refused with 503 meanwhile');
      return { error: gatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, 'The identity provider (OIDC_ISSUER) cannot be reached: try again later.') };
    }
    try {
      const { payload } = await jwtVerify(token, this.jwks!, {
        issuer: metadata.issuer,
        audience: this.settings.audience,
        algorithms: this.settings.algorithms,
        clockTolerance: this.settings.clockSkewS,
        requiredClaims: ['exp'],
      });
      const person = personOf(payload, this.settings);
      if (person.roles.length === 0) {
        return {
          error: forbidden(
            `The token of "${person.sub}" grants no role on this gateway: its ${this.settings.rolesClaim} claim holds none of ${this.settings.roleMap.size > 0 ? [...this.settings.roleMap.keys()].join(', ') : 'viewer, operator'}.`,
          ),
        };
      }
      return { person };
    } catch (error) {
      if (!(error instanceof joseErrors.JOSEError) || error instanceof joseErrors.JWKSTimeout) {
        this.logger.error({ err: error, issuer: this.settings.issuer }, "the OIDC issuer's signing keys cannot be fetched");
        return {
          error: gatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, "The identity provider's signing keys (OIDC_ISSUER) cannot be fetched: try again later."),
        };
      }
      return { error: unauthenticated(`The bearer token is not valid for this gateway: ${reasonOf(error)}.`) };
    }
  }

  private expiresInMs(token: string): number {
    try {
      const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { exp?: number };
      return typeof payload.exp === 'number' ? payload.exp * 1000 - Date.now() : 0;
    } catch {
      return 0;
    }
  }
}

/** Why jose refused a token, in words a caller can act on (never the token). */
function reasonOf(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'it has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return 'it was issued by another issuer';
    if (error.claim === 'aud') return 'it is meant for another audience';
    if (error.claim === 'nbf') return 'it is not valid yet';
    return `its "${error.claim}" claim is not acceptable`;
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed || error instanceof joseErrors.JOSENotSupported) return 'its signing algorithm is not accepted';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'its signature does not verify';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'the issuer has no key matching it';
  return 'it is malformed';
}
