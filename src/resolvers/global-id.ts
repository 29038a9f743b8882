/**
 * Relay global object ids (https://relay.dev/graphql/objectidentification.htm): opaque
 * strings that name a type and that type's own id, so `Query.node` can find any object.
 */
import { badUserInput } from '../errors.js';

export type NodeType = 'JobSession' | 'Job' | 'JobLogEntry';
const NODE_TYPES: readonly NodeType[] = ['JobSession', 'Job', 'JobLogEntry'];
/** A log entry's SPP id is only unique with its session's (SPP reads entries by `jobsessionId`): `sessionId.entryId`. */
const LOCAL_ID: Record<NodeType, RegExp> = { JobSession: /^\d{1,20}$/, Job: /^\d{1,20}$/, JobLogEntry: /^\d{1,20}\.\d{1,20}$/ };

export function toGlobalId(type: NodeType, id: string): string {
  return Buffer.from(`${type}:${id}`, 'utf8').toString('base64url');
}

/** Decodes a global id; returns null when the text is not one (the caller decides whether that is an error). */
export function fromGlobalId(globalId: string): { type: NodeType; id: string } | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(globalId)) return null;
  const text = Buffer.from(globalId, 'base64url').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return null;
  const type = text.slice(0, colon) as NodeType;
  const id = text.slice(colon + 1);
  if (!NODE_TYPES.includes(type) || !LOCAL_ID[type].test(id)) return null;
  return { type, id };
}

const SPP_ID = /^\d{1,20}$/;

/** `jobSession(id)` accepts SPP's own id ("1564688656142") or the global id. */
export function jobSessionIdFrom(id: string, argumentName = 'id'): string {
  return sppIdFrom(id, 'JobSession', 'an SPP job session id (digits, e.g. "1564688656142")', argumentName);
}

/** `job(id)` accepts SPP's own id ("1005") or the global id. */
export function jobIdFrom(id: string, argumentName = 'id'): string {
  return sppIdFrom(id, 'Job', 'an SPP job id (digits, e.g. "1005")', argumentName);
}

function sppIdFrom(id: string, type: NodeType, expected: string, argumentName: string): string {
  if (SPP_ID.test(id)) return id;
  const decoded = fromGlobalId(id);
  if (decoded?.type === type) return decoded.id;
  throw badUserInput(
    `Argument "${argumentName}" must be ${expected} or a ${type} global id, got ${id.length > 40 ? `a ${id.length}-character string` : JSON.stringify(id)}.`,
    argumentName,
  );
}
