import { useState, type FormEvent } from 'react';
import { signIn, signInWithOidc, type Session } from '../auth';

/** SPP credentials (pass-through gateways) and the single-sign-on button (gateways with OIDC). */
export function SignIn({ gatewayUrl, session, onSignedIn }: { gatewayUrl: string; session: Session; onSignedIn: (session: Session) => void }) {
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const methods = session.signIn ?? { password: true, oidc: false };
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(undefined);
    const outcome = await signIn(gatewayUrl, String(form.get('username') ?? ''), String(form.get('password') ?? '')).catch(
      () => 'The gateway cannot be reached: try again.',
    );
    setBusy(false);
    if (typeof outcome === 'string') setError(outcome);
    else onSignedIn(outcome);
  };
  return (
    <main id="main" className="sign-in" data-testid="sign-in">
      <h1 tabIndex={-1}>Sign in to the SPP job monitor</h1>
      {methods.password && (
        <form onSubmit={(e) => void submit(e)} aria-label="Sign in with your SPP account">
          <label>
            SPP user name <input name="username" autoComplete="username" required />
          </label>
          <label>
            Password <input name="password" type="password" autoComplete="current-password" required />
          </label>
          <button type="submit" disabled={busy}>
            Sign in
          </button>
        </form>
      )}
      {methods.oidc && (
        <button type="button" data-testid="sign-in-oidc" onClick={() => signInWithOidc(gatewayUrl)}>
          Sign in with single sign-on
        </button>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </main>
  );
}
