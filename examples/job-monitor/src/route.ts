import { useEffect, useState } from 'react';

/** The screens, addressed by the URL's hash so any static server (and a reload) works. */
export type Route = { screen: 'running' } | { screen: 'history' } | { screen: 'dashboard' } | { screen: 'session'; id: string };

export function parseRoute(hash: string): Route {
  const [, screen, id] = hash.replace(/^#/, '').split('?')[0]!.split('/');
  if (screen === 'session' && id) return { screen: 'session', id: decodeURIComponent(id) };
  if (screen === 'history' || screen === 'dashboard') return { screen };
  return { screen: 'running' };
}

export const hrefOf = (route: Route) => (route.screen === 'session' ? `#/session/${encodeURIComponent(route.id)}` : `#/${route.screen}`);

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}
