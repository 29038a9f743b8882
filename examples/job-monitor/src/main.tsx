import { StrictMode, useCallback, useEffect, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { ApolloProvider } from '@apollo/client/react';
import { createApolloClient } from './apollo';
import { fetchSession, onOtherTab, signOut, type Session } from './auth';
import { loadConfig, type AppConfig } from './config';
import { App } from './App';
import { SignIn } from './screens/SignIn';
import './styles.css';

/** How often a tab asks whether its session still holds (the gateway does not count this as use). */
const SESSION_CHECK_MS = 5_000;

/** The sign-in screen until someone is signed in, then the app with a client for that session. */
function Root({ config }: { config: AppConfig }) {
  const [session, setSession] = useState<Session | undefined>();
  const refresh = useCallback(() => {
    fetchSession(config.gatewayUrl).then(setSession, () => undefined);
  }, [config.gatewayUrl]);
  useEffect(() => {
    refresh();
    const timer = setInterval(refresh, SESSION_CHECK_MS);
    const off = onOtherTab(refresh);
    return () => {
      clearInterval(timer);
      off();
    };
  }, [refresh]);
  const user = session?.signedIn ? session.user?.name : undefined;
  // One client per signed-in person: nothing cached for one is shown to the next.
  const apollo = useMemo(() => (user ? createApolloClient(config, refresh) : undefined), [user, config, refresh]);
  useEffect(() => () => apollo?.dispose(), [apollo]);

  if (!session) return <p className="loading">Loading…</p>;
  if (!session.signedIn || !apollo) return <SignIn gatewayUrl={config.gatewayUrl} session={session} onSignedIn={setSession} />;
  return (
    <ApolloProvider client={apollo.client}>
      <App
        user={session.user?.displayName ?? session.user?.name ?? ''}
        onSignOut={() => {
          void signOut(config.gatewayUrl).then(refresh);
        }}
      />
    </ApolloProvider>
  );
}

const config = await loadConfig();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Root config={config} />
  </StrictMode>,
);
