/**
 * One audit line per action submission: who (the actor's name: a user name or a token's
 * fingerprint, never a credential; the consumer; the client application when it says), what, on which object, the outcome and the request id.
 * Written at info level under `audit`, so log shipping can route it apart.
 */
import type { Logger } from 'pino';

export interface AuditEntry {
  /** The person or service: subject plus name or e-mail when present, or a key's name or fingerprint. */
  actor: string;
  /** The caller's gateway role (`operator`, `viewer`). */
  role: string;
  /** The consumer name logs and metrics carry (src/identity/caller.ts). */
  consumer: string;
  /** `apollographql-client-name` and `-version`, when sent. */
  client?: string;
  clientVersion?: string;
  action: string;
  objectId: string;
  /** `ok`, `replayed` (answered from the first submission, SPP not called), `refused` or `failed`. */
  outcome: 'ok' | 'replayed' | 'refused' | 'failed';
  /** The error code when the outcome is not ok. */
  code?: string;
  requestId: string;
  clientMutationId?: string;
  /** The SPP server acted on, with several (issue 21). */
  server?: string;
}

export function audit(logger: Logger, entry: AuditEntry): void {
  logger.info(
    { audit: entry },
    `audit: ${entry.action} ${entry.objectId}${entry.server !== undefined ? ` on ${entry.server}` : ''} by ${entry.actor} (${entry.role}): ${entry.outcome}${entry.code ? ` (${entry.code})` : ''}`,
  );
}
