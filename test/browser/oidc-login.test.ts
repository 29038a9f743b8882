/**
 * The OIDC authorization-code flow end to end in Chromium: the gateway sends the browser to a
 * real OpenID provider (oidc-provider on loopback), the person signs in on the provider's own
 * form, and the gateway's callback sets the session cookie; GraphQL then knows the person.
 */
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { safeReturnTo } from '../../src/http/auth-routes.js';
import { ADMIN, startHarness, type Harness } from '../support/harness.js';
import { AUDIENCE, GATEWAY_CLIENT, startProvider, type TestProvider } from '../support/oidc.js';
import { chromium, launchChromium } from './chromium.js';

declare const document: any;

describe.skipIf(!chromium)('OIDC browser sign-in (code flow with PKCE, state and nonce) in Chromium', () => {
  let provider: TestProvider;
  let h: Harness;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    provider = await startProvider();
    h = await startHarness({
      sim: { size: 100 },
      env: {
        OIDC_ISSUER: provider.issuer,
        OIDC_CLIENT_ID: GATEWAY_CLIENT.id,
        OIDC_CLIENT_SECRET: GATEWAY_CLIENT.secret,
        OIDC_AUDIENCE: AUDIENCE,
        OIDC_ROLES_CLAIM: 'realm_access.roles',
        ROLE_MAP: 'spp-operators=operator,spp-viewers=viewer',
        OIDC_SCOPES: 'openid profile email roles',
        SESSION_SECRET: 'oidc-browser-test-secret-0123456789abcdef',
      },
      auth: { mode: 'service-account', serviceAccount: ADMIN, tokens: [], allowAnonymous: false },
    });
    base = h.gateway.url.replace(/\/graphql$/, '');
    provider.setRedirectUris([`${base}/auth/oidc/callback`]);
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await provider?.close();
  });

  /** Signs `login` in at the provider's form and returns the page, back at the gateway. */
  async function signIn(login: string): Promise<Page> {
    // Its own context: no provider session of an earlier person signs this one in silently.
    const page = await (await browser.createBrowserContext()).newPage();
    await page.goto(`${base}/auth/oidc/login?returnTo=/auth/session`);
    expect(new URL(page.url()).origin).toBe(provider.issuer);
    await page.type('input[name="login"]', login);
    await page.type('input[name="password"]', 'any-password');
    await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
    // The provider asks for consent once per client.
    if (new URL(page.url()).origin === provider.issuer) await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
    return page;
  }

  it('signs alice in: back at returnTo with her session (operator from realm_access.roles) in an HttpOnly, SameSite=Lax cookie; the flow cookie is gone', async () => {
    const page = await signIn('alice');
    expect(page.url()).toBe(`${base}/auth/session`);
    const session = JSON.parse((await page.evaluate(() => document.body.innerText)) as string);
    expect(session).toEqual({
      signedIn: true,
      via: 'oidc',
      user: { name: 'alice', displayName: 'Alice Example' },
      roles: ['viewer', 'operator'],
      idleExpiresAt: expect.any(String),
      expiresAt: expect.any(String),
    });
    const cookies = await page.cookies(base);
    const cookie = cookies.find((c) => c.name === 'spp-gateway-session')!;
    expect({ httpOnly: cookie.httpOnly, sameSite: cookie.sameSite, path: cookie.path }).toEqual({ httpOnly: true, sameSite: 'Lax', path: '/' });
    // The flow's own cookie is gone once it finished.
    expect(cookies.find((c) => c.name === 'spp-gateway-oidc')).toBeUndefined();

    // GraphQL from the page (same origin) knows alice: as operator she sees the actions SPP offers.
    const answer: { status: number; body: any } = await page.evaluate(async (url: string) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ jobSessions(first: 50) { nodes { availableActions } } }' }),
      });
      return { status: response.status, body: await response.json() };
    }, h.gateway.url);
    expect(answer.status).toBe(200);
    expect((answer.body.data.jobSessions.nodes as Array<{ availableActions: string[] }>).some((n) => n.availableActions.length > 0)).toBe(true);
    await page.close();
  });

  it('signs bob in as a viewer: no actions offered', async () => {
    const page = await signIn('bob');
    const session = JSON.parse((await page.evaluate(() => document.body.innerText)) as string);
    expect(session).toMatchObject({ signedIn: true, via: 'oidc', user: { name: 'bob' }, roles: ['viewer'] });
    await page.close();
  });

  it('a callback without the flow the gateway started is refused', async () => {
    const response = await fetch(`${base}/auth/oidc/callback?code=forged&state=forged`);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      errors: [{ message: 'This sign-in was not started here or took too long: start again.', extensions: { code: 'BAD_REQUEST' } }],
    });
  });

  it('returnTo goes only to this gateway or an allowed origin', async () => {
    const refused = await fetch(`${base}/auth/oidc/login?returnTo=${encodeURIComponent('https://evil.example/steal')}`, { redirect: 'manual' });
    expect(refused.status).toBe(400);
    const req = { headers: { host: 'gw.example' }, socket: {} } as never;
    expect(safeReturnTo(req, '/app', [])).toBe('/app');
    expect(safeReturnTo(req, '//evil.example/x', [])).toBeUndefined();
    expect(safeReturnTo(req, 'http://gw.example/app', [])).toBe('http://gw.example/app');
    expect(safeReturnTo(req, 'https://app.example/x', ['https://app.example'])).toBe('https://app.example/x');
    expect(safeReturnTo(req, 'https://app.example/x', ['*'])).toBeUndefined();
    expect(safeReturnTo(req, 'javascript:alert(1)', ['*'])).toBeUndefined();
  });
});
