import { useEffect, useRef } from 'react';
import { hrefOf, useRoute, type Route } from './route';
import { Running } from './screens/Running';
import { History } from './screens/History';
import { SessionDetail } from './screens/SessionDetail';
import { Dashboard } from './screens/Dashboard';

const TABS: Array<{ route: Route; label: string }> = [
  { route: { screen: 'running' }, label: 'Running now' },
  { route: { screen: 'history' }, label: 'History' },
  { route: { screen: 'dashboard' }, label: 'Dashboard' },
];

export function App({ user, onSignOut }: { user: string; onSignOut: () => void }) {
  const route = useRoute();
  const main = useRef<HTMLElement>(null);
  // Keyboard and screen-reader users land on the new screen's heading, not back at the top of the page.
  useEffect(() => {
    main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [route.screen, route.screen === 'session' ? route.id : '']);
  return (
    <>
      <a
        className="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          main.current?.querySelector<HTMLElement>('h1')?.focus();
        }}
      >
        Skip to content
      </a>
      <header>
        <span className="brand">SPP job monitor</span>
        <nav aria-label="Screens">
          {TABS.map((tab) => (
            <a key={tab.label} href={hrefOf(tab.route)} aria-current={tab.route.screen === route.screen ? 'page' : undefined}>
              {tab.label}
            </a>
          ))}
        </nav>
        <span className="user">
          <span data-testid="signed-in-as">{user}</span>
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </span>
      </header>
      <main id="main" ref={main}>
        {route.screen === 'running' && <Running />}
        {route.screen === 'history' && <History />}
        {route.screen === 'dashboard' && <Dashboard />}
        {route.screen === 'session' && <SessionDetail id={route.id} />}
      </main>
    </>
  );
}
