/**
 * Relay global object ids (https://relay.dev/graphql/objectidentification.htm): opaque
 * strings that name a type and that type's own id, so `Query.node` can find any object.
 */
import { badUserInput } from '../errors.js';

export type NodeType = 'JobSession' | 'Job' | 'JobLogEntry';
const NODE_TYPES: readonly NodeType[] = ['JobSession', 'Job', 'JobLogEntry'];
/** A log entry's SPP id is only unique with its session's (SPP reads entries by `jobsessionId`): `sessionId.entryId`. */
const LOCAL_ID: Record<NodeType, RegExp> = { JobSession: /^\d{1,20}$/, Job: /^\d{1,20}$/, JobLogEntry: /^\d{1,20}\.\d{1,20}$/ };

/** A server's name as SPP_SERVERS_FILE allows it (src/config.ts). */
const SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/**
 * `Type:id`, or with several SPP servers `Type:id@server` (issue 21): the id names the server
 * that owns the object. With one server ids stay as they always were.
 */
export function toGlobalId(type: NodeType, id: string, server?: string): string {
  return Buffer.from(`${type}:${id}${server !== undefined ? `@${server}` : ''}`, 'utf8').toString('base64url');
}

/**
 * Decodes a global id; returns null when the text is not one (the caller decides whether that
 * is an error). `server` is undefined for ids without one: the default (first) server's.
 */
export function fromGlobalId(globalId: string): { type: NodeType; id: string; server?: string } | null {
  if (!/^[A-Za-z0-9_-]{1,300}$/.test(globalId)) return null;
  const text = Buffer.from(globalId, 'base64url').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return null;
  const type = text.slice(0, colon) as NodeType;
  const at = text.indexOf('@', colon);
  const id = text.slice(colon + 1, at < 0 ? undefined : at);
  const server = at < 0 ? undefined : text.slice(at + 1);
  if (!NODE_TYPES.includes(type) || !LOCAL_ID[type].test(id) || (server !== undefined && !SERVER_NAME.test(server))) return null;
  return { type, id, ...(server !== undefined ? { server } : {}) };
}

const SPP_ID = /^\d{1,20}$/;

/** A job session's SPP id and, from a global id of several servers, its server (undefined: the default server). */
export function jobSessionRefFrom(id: string, argumentName = 'id'): { id: string; server?: string } {
  return sppIdFrom(id, 'JobSession', 'an SPP job session id (digits, e.g. "1564688656142")', argumentName);
}

/** A job's SPP id and its server, as jobSessionRefFrom. */
export function jobRefFrom(id: string, argumentName = 'id'): { id: string; server?: string } {
  return sppIdFrom(id, 'Job', 'an SPP job id (digits, e.g. "1005")', argumentName);
}

function sppIdFrom(id: string, type: NodeType, expected: string, argumentName: string): { id: string; server?: string } {
  if (SPP_ID.test(id)) return { id };
  const decoded = fromGlobalId(id);
  if (decoded?.type === type) return decoded.server !== undefined ? { id: decoded.id, server: decoded.server } : { id: decoded.id };
  throw badUserInput(
    `Argument "${argumentName}" must be ${expected} or a ${type} global id, got ${id.length > 40 ? `a ${id.length}-character string` : JSON.stringify(id)}.`,
    argumentName,
  );
}
