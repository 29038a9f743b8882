/**
 * One audit line per action submission: who (the actor's name: a user name or a token's
 * fingerprint, never a credential), what, on which object, the outcome and the request id.
 * Written at info level under `audit`, so log shipping can route it apart.
 */
import type { Logger } from 'pino';

export interface AuditEntry {
  actor: string;
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
    `audit: ${entry.action} ${entry.objectId}${entry.server !== undefined ? ` on ${entry.server}` : ''} by ${entry.actor}: ${entry.outcome}${entry.code ? ` (${entry.code})` : ''}`,
  );
}
