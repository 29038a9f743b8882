/**
 * The Caller: who a request comes from, decided once per request by the Authenticator (auth.ts)
 * from whatever the request carried (session cookie, OIDC JWT, API key, static gateway token,
 * Basic credentials, SPP session id, createSession token, nothing). Everything below identity/
 * reads the Caller; nothing re-parses headers.
 *
 * - `key` is stable per caller and non-secret (a keyed hash or a name): budgets, per-caller
 *   limits and idempotency keys are keyed by it.
 * - `consumer` is the short name in logs, audit lines and metrics, with bounded cardinality: an
 *   API key's name, `oidc:<client_id>` for a service's client-credentials token, `oidc-user` for a
 *   person's OIDC token, `session` for a browser session cookie, `spp-user` for pass-through SPP
 *   users, `token:<fingerprint>` for a static GATEWAY_TOKENS entry, `anonymous`.
 * - `name` and `anonymous` are what actions and audit lines have always read (the former Actor).
 */
export type Role = 'viewer' | 'operator';

export const ROLES: readonly Role[] = ['viewer', 'operator'];

export type CallerKind =
  /** An API_KEYS_FILE entry. */
  | 'api-key'
  /** A static GATEWAY_TOKENS entry (service-account mode). */
  | 'gateway-token'
  /** A bearer JWT from the OIDC issuer. */
  | 'oidc'
  /** A browser session cookie (SPP login or OIDC code flow). */
  | 'session'
  /** Pass-through: Basic credentials, an SPP session id or a createSession token. */
  | 'spp-user'
  | 'anonymous';

/** A cost budget: a bucket of `points` refilled at `restorePerSecond` (issue 19, item 5). */
export interface Budget {
  points: number;
  restorePerSecond: number;
}

export interface Caller {
  /** Stable per caller, non-secret: budgets, per-caller limits and idempotency keys use it. */
  key: string;
  /** Name in logs, audit lines and metrics (bounded cardinality). */
  consumer: string;
  kind: CallerKind;
  /** The person or service: OIDC `sub`, SPP user name, API key name. */
  subject?: string;
  /** Name or e-mail when the credential carries one. */
  displayName?: string;
  /** What the gateway lets this caller do; in pass-through mode SPP's own roles decide on top. */
  roles: readonly Role[];
  /** The API key's own budget (API_KEYS_FILE); absent: the gateway's defaults. */
  budget?: Budget;
  /** Audit name: never a credential (user name, key name, token fingerprint). */
  name: string;
  anonymous: boolean;
}

/** May this caller start, cancel, rerun and expire? */
export const isOperator = (caller: Pick<Caller, 'roles' | 'anonymous'>): boolean => !caller.anonymous && caller.roles.includes('operator');

/**
 * What of a caller decides an answer besides its upstream identity: its roles (`availableActions`
 * is empty for viewers). Whatever shares one answer between callers keys it by this too.
 */
export const rolesKey = (caller: Pick<Caller, 'roles' | 'anonymous'>): string => (caller.anonymous ? 'anonymous' : [...caller.roles].sort().join(','));

/** The highest role, for audit lines. */
export const roleOf = (caller: Pick<Caller, 'roles'>): Role | 'none' =>
  caller.roles.includes('operator') ? 'operator' : caller.roles.includes('viewer') ? 'viewer' : 'none';

/** Audit name: subject plus name or e-mail when present ("alice (Alice Smith)"). */
export function auditNameOf(caller: Pick<Caller, 'name' | 'subject' | 'displayName'>): string {
  if (caller.subject && caller.displayName && caller.displayName !== caller.subject) return `${caller.subject} (${caller.displayName})`;
  return caller.name;
}

/**
 * An anonymous caller (GATEWAY_ALLOW_ANONYMOUS). Its key is the same for all: per-address budgets
 * and limits add the client address (which the headers do not carry) to it.
 */
export const ANONYMOUS: Caller = Object.freeze({
  key: 'anonymous',
  consumer: 'anonymous',
  kind: 'anonymous',
  roles: ['viewer'] as const,
  name: 'anonymous',
  anonymous: true,
});
