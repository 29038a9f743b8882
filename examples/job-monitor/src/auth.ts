/**
 * Signing in and out through the gateway's browser sessions (docs/security.md "Browser
 * sessions"): POST /auth/login with SPP credentials, the OIDC redirect when the gateway offers
 * it, POST /auth/logout, GET /auth/session. Every request carries the cookie (`credentials:
 * 'include'`); the page never sees a credential.
 *
 * Tabs tell each other when someone signs out (BroadcastChannel), and each tab also asks the
 * gateway every few seconds (asking does not keep an idle session alive), so a session that ended
 * anywhere, for any reason, brings every tab back to the sign-in screen.
 */
export interface Session {
  signedIn: boolean;
  user?: { name: string; displayName?: string };
  roles?: string[];
  expiresAt?: string;
  /** How one may sign in, when signed out. */
  signIn?: { password: boolean; oidc: boolean };
}

const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('spp-job-monitor-auth') : undefined;

export function authUrl(gatewayUrl: string, path: string): string {
  return new URL(path, gatewayUrl).href;
}

export async function fetchSession(gatewayUrl: string): Promise<Session> {
  const response = await fetch(authUrl(gatewayUrl, '/auth/session'), { credentials: 'include', cache: 'no-store' });
  if (!response.ok) throw new Error(`The gateway answered ${response.status}`);
  return (await response.json()) as Session;
}

/** Signs in with SPP credentials; the error message to show, or the new session. */
export async function signIn(gatewayUrl: string, username: string, password: string): Promise<Session | string> {
  const response = await fetch(authUrl(gatewayUrl, '/auth/login'), {
    method: 'POST',
    credentials: 'include',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const body = (await response.json()) as Session & { errors?: Array<{ message: string }> };
  if (!response.ok) return body.errors?.[0]?.message ?? `Sign-in failed (${response.status})`;
  channel?.postMessage('signed-in');
  return body;
}

export function signInWithOidc(gatewayUrl: string): void {
  window.location.assign(`${authUrl(gatewayUrl, '/auth/oidc/login')}?returnTo=${encodeURIComponent(window.location.href)}`);
}

export async function signOut(gatewayUrl: string): Promise<void> {
  await fetch(authUrl(gatewayUrl, '/auth/logout'), { method: 'POST', credentials: 'include' }).catch(() => undefined);
  channel?.postMessage('signed-out');
}

/** Calls `onChange` when another tab signs in or out. */
export function onOtherTab(onChange: () => void): () => void {
  if (!channel) return () => undefined;
  const listener = () => onChange();
  channel.addEventListener('message', listener);
  return () => channel.removeEventListener('message', listener);
}
