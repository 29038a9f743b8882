import { useQuery } from '@apollo/client/react';
import { graphql } from './gql';
import type { SppServerFieldsFragment } from './gql/graphql';
import type { Route } from './route';

/**
 * The SPP servers behind the gateway (issue 21). Asked once per signed-in client and shared
 * through the cache (SppServer is keyed by `name` in apollo.ts, so the dashboard's polling keeps
 * every screen's copy current).
 */
/** What every screen shows of a server (the dashboard's tiles query selects it too). */
export const SPP_SERVER_FIELDS = graphql(`
  fragment SppServerFields on SppServer {
    name
    url
    version
    status
    lastContact
  }
`);

const SERVERS_QUERY = graphql(`
  query SppServers {
    sppServers {
      ...SppServerFields
    }
  }
`);

export type SppServerInfo = SppServerFieldsFragment;

/**
 * The servers, and whether there are several: only then do screens show a server column, a
 * server filter and tiles per server. With one server (or before the answer, or when it fails)
 * the app looks as it always did.
 */
export function useServers(): { servers: SppServerInfo[]; multi: boolean } {
  const { data } = useQuery(SERVERS_QUERY);
  const servers = data?.sppServers ?? [];
  return { servers, multi: servers.length > 1 };
}

/** The servers a screen reads: only names the gateway knows (a linked URL may carry others); none: every server. */
export const chosenServers = (wanted: readonly string[], servers: readonly SppServerInfo[], multi: boolean): string[] =>
  multi ? wanted.filter((name) => servers.some((s) => s.name === name)) : [];

/**
 * The detail screen's route for a session: over several servers by its global id, which names
 * its server (SPP's own session id would be read on the first server); with one, by SPP's id.
 */
export const sessionRoute = (session: { id: string; sessionId: string }, multi: boolean): Route => ({
  screen: 'session',
  id: multi ? session.id : session.sessionId,
});
