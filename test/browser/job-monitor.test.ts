/**
 * The job-monitor example (examples/job-monitor), built, served on its own origin, and driven in
 * the system's Chromium against the gateway and the simulator: the proof that the API serves a
 * frontend. The gateway runs only the app's trusted documents (its codegen persisted-documents.json,
 * ALLOW_ARBITRARY_OPERATIONS=false); live changes come from the simulator's step(), so nothing
 * depends on timing. `npm test` builds the app first (npm run example:build); a missing build fails here.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveApp } from '../../examples/job-monitor/serve.mjs';
import type { SppFilter, SppJobSession } from '../../src/spp-api/types.js';
import { ADMIN, basic, startHarness, type Harness } from '../support/harness.js';
import { chromium, launchChromium, scrollHistoryToEnd } from './chromium.js';

// Page functions run in the browser; the test project's types are Node's.
declare const document: any;
declare const window: any;
type HTMLButtonElement = { disabled: boolean };

const MANIFEST = fileURLToPath(new URL('../../examples/job-monitor/src/gql/persisted-documents.json', import.meta.url));
/** Screenshots of every screen: test artifacts, git-ignored. */
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const RUNNING: SppFilter[] = [{ property: 'status', value: ['RUNNING', 'PENDING', 'WAITING', 'HELD', 'CANCELING'], op: 'IN' }];
const FINAL = new Set(['COMPLETED', 'PARTIAL', 'FAILED', 'CANCELED', 'ABORTED', 'STOPPED']);
const WAIT = { timeout: 15_000, polling: 50 };
const MONITOR = { username: 'monitor', password: 'monitor-password' };

/** Signs in on the app's sign-in screen and waits for the app itself. */
async function signInAs(page: Page, appUrl: string, user: { username: string; password: string }, screen = '#/running') {
  await page.goto(`${appUrl}${screen}`);
  await page.waitForSelector('[data-testid="sign-in"] input[name="username"]', WAIT);
  await page.type('input[name="username"]', user.username);
  await page.type('input[name="password"]', user.password);
  await page.click('[data-testid="sign-in"] button[type="submit"]');
  await page.waitForSelector('[data-testid="signed-in-as"]', WAIT);
}

describe.skipIf(!chromium)('the job-monitor app in Chromium', () => {
  let browser: Browser;
  let h: Harness;
  let app: { url: string; close(): Promise<void> };
  let page: Page;
  const requested: string[] = [];
  const posted: Array<Record<string, unknown>> = [];
  const pageErrors: string[] = [];
  const sockets: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    h = await startHarness({
      // Live changes come from step() below; the simulator's own timer stays off so every change is the test's.
      sim: { size: 150, now: Date.now(), clock: Date.now },
      embeddedSimulator: true, // CORS and subscriptions allow localhost origins, as `npm run example` sets CORS_ORIGINS
      // As `npm run example`: pass-through, people sign in with their SPP account and SPP's roles decide.
      auth: { mode: 'pass-through' },
      env: {
        SESSION_SECRET: 'job-monitor-browser-test-secret-0123456789',
        PERSISTED_DOCUMENTS_FILE: MANIFEST,
        ALLOW_ARBITRARY_OPERATIONS: 'false',
        SUBSCRIPTION_POLL_MS: '100',
        SUBSCRIPTION_IDLE_POLL_MS: '100',
        LOG_LEVEL: 'warn',
      },
    });
    app = await serveApp({ gatewayUrl: h.gateway.url });
    expect(new URL(app.url).origin).not.toBe(new URL(h.gateway.url).origin);
    browser = await launchChromium();
    page = await browser.newPage();
    await page.setViewport({ width: 1100, height: 720 });
    page.on('request', (request) => {
      requested.push(request.url());
      if (request.method() === 'POST') posted.push(JSON.parse(request.postData() ?? '{}'));
    });
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    // WebSockets are not requests to puppeteer: the DevTools protocol reports them.
    const cdp = await page.createCDPSession();
    await cdp.send('Network.enable');
    cdp.on('Network.webSocketCreated', ({ url }) => sockets.push(url));
    await signInAs(page, app.url, ADMIN);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await h?.close();
  });

  const idsOnScreen = (table: string) => page.$$eval(`[data-testid="${table}"] tbody tr`, (rows) => rows.map((r) => r.getAttribute('data-session-id')!));
  const simRunning = () => h.sim.list({ filter: RUNNING }).map((s) => s.id);
  const sameSet = (a: string[], b: string[]) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
  const showsExactly = async (table: string, expected: () => string[]) => {
    await page.waitForFunction(
      (t: string, ids: string[]) => {
        const shown = [...document.querySelectorAll(`[data-testid="${t}"] tbody tr`)].map((r) => r.getAttribute('data-session-id'));
        return shown.length === ids.length && ids.every((id) => shown.includes(id));
      },
      WAIT,
      table,
      expected(),
    );
  };

  it("Running now shows exactly the simulator's running sessions; one the simulator starts appears and one that finishes leaves, without a reload", async () => {
    await page.goto(`${app.url}#/running`);
    await page.waitForSelector('[data-testid="running-table"]', WAIT);
    await page.evaluate(() => (window.__sameDocument = true));
    expect(simRunning().length).toBeGreaterThan(0);
    await showsExactly('running-table', simRunning);
    expect(sameSet(await idsOnScreen('running-table'), simRunning())).toBe(true);

    // Wait until the subscription has caught up from `since` and its poller has read twice, so the next change is news to it.
    const polled = h.sim.requests.length;
    await expect.poll(() => h.gateway.live.registry.size === 1 && h.sim.requests.length >= polled + 3, { timeout: 15_000 }).toBe(true);

    const { inserted } = h.sim.step({ insert: 1 });
    await page.waitForSelector(`[data-testid="running-table"] tr[data-session-id="${inserted[0]}"]`, WAIT);

    // Step until a session that was on screen has finished in the simulator; it must leave the screen.
    const before = await idsOnScreen('running-table');
    let finished: SppJobSession | undefined;
    for (let i = 0; i < 50 && !finished; i++) {
      h.sim.step({ insert: 0 });
      finished = before.map((id) => h.sim.get(id)).find((s): s is SppJobSession => s !== undefined && FINAL.has(s.status));
    }
    expect(finished, 'a running session finished within 50 steps').toBeDefined();
    await page.waitForSelector(`[data-testid="running-table"] tr[data-session-id="${finished!.id}"]`, { ...WAIT, hidden: true });
    await showsExactly('running-table', simRunning);
    expect(await page.evaluate(() => window.__sameDocument)).toBe(true);
    // Progress bars and status words, not colour alone.
    const firstRow = await page.$eval('[data-testid="running-table"] tbody tr', (row) => ({
      status: row.querySelector('[data-status]')?.textContent,
      progress: row.querySelector('progress')?.getAttribute('aria-label'),
    }));
    expect(firstRow.status).toMatch(/^. (Running|Pending|Waiting|Held|Canceling)$/);
    expect(firstRow.progress).toMatch(/progress$/);
    await page.screenshot({ path: `${ARTIFACTS}running.png` });
  });

  it('Cancel is enabled only where SPP offers it, and changes the status on screen through the cache and in the simulator', async () => {
    h.sim.step({ insert: 2 });
    await showsExactly('running-table', simRunning);
    const target = h.sim.list({ filter: RUNNING }).find((s) => ['RUNNING', 'PENDING', 'WAITING'].includes(s.status))!;
    const button = `[data-testid="running-table"] tr[data-session-id="${target.id}"] button`;
    await page.waitForFunction((b: string) => !document.querySelector(b)?.disabled, WAIT, button);
    const canceling = h.sim.list({ filter: RUNNING }).filter((s) => s.status === 'CANCELING');
    for (const s of canceling)
      expect(await page.$eval(`[data-testid="running-table"] tr[data-session-id="${s.id}"] button`, (b) => (b as HTMLButtonElement).disabled)).toBe(true);

    posted.length = 0;
    await page.click(button);
    await page.waitForFunction(
      (b: string) => document.querySelector(`${b.replace(' button', '')} [data-status]`)?.getAttribute('data-status') === 'CANCELING',
      WAIT,
      button,
    );
    expect(h.sim.get(target.id)!.status).toBe('CANCELING');
    // The screen changed from the mutation's answer in the cache: the one request was the mutation.
    expect(posted.map((p) => p.operationName)).toEqual(['CancelJobSession']);
    expect(await page.$eval(button, (b) => (b as HTMLButtonElement).disabled)).toBe(true);
    expect(await page.evaluate(() => window.__sameDocument)).toBe(true);

    h.sim.step({ insert: 0 }); // SPP finishes the cancel: CANCELED, so it leaves "Running now"
    expect(h.sim.get(target.id)!.status).toBe('CANCELED');
    await page.waitForSelector(`[data-testid="running-table"] tr[data-session-id="${target.id}"]`, { ...WAIT, hidden: true });
  });

  it('History scrolls to the end of a filtered list and shows every session once while the simulator inserts', async () => {
    await page.goto(`${app.url}#/history?status=COMPLETED&status=FAILED&status=PARTIAL`);
    await page.waitForSelector('[data-testid="history-table"] tbody tr', WAIT);
    const filter: SppFilter[] = [{ property: 'status', value: ['COMPLETED', 'FAILED', 'PARTIAL'], op: 'IN' }];
    const newestFirst = [
      { property: 'start', direction: 'DESC' as const },
      { property: 'id', direction: 'DESC' as const },
    ];
    const initial = h.sim.list({ filter, sort: newestFirst }).map((s) => s.id);
    expect(initial.length).toBeGreaterThan(50); // more than two pages of 25
    const seen = new Set(initial);

    await scrollHistoryToEnd(page, WAIT, {
      rounds: 20,
      beforeEach: () => {
        const { inserted } = h.sim.step({ insert: 2 });
        for (const s of h.sim.list({ filter })) seen.add(s.id);
        inserted.forEach((id) => seen.add(id));
      },
    });
    const shown = await idsOnScreen('history-table');
    expect(new Set(shown).size).toBe(shown.length); // nobody twice
    expect(initial.filter((id) => !shown.includes(id))).toEqual([]); // nobody skipped
    expect(shown.filter((id) => !seen.has(id))).toEqual([]); // nothing foreign
    const starts = shown.map((id) => h.sim.get(id)!.start);
    expect(starts).toEqual([...starts].sort((a, b) => b - a));
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: `${ARTIFACTS}history.png` });
  });

  it('the detail page of a failed session shows its ERROR log entries', async () => {
    const failed = h.sim.list({ filter: [{ property: 'status', value: 'FAILED', op: '=' }] }).find((s) => h.sim.logOf(s.id).some((e) => e.type === 'ERROR'))!;
    expect(failed).toBeDefined();
    const errors = h.sim.logOf(failed.id).filter((e) => e.type === 'ERROR');
    await page.goto(`${app.url}#/session/${failed.id}`);
    await page.waitForSelector('[data-testid="log-table"] tbody tr', WAIT);
    await page.waitForFunction(
      (n: number) => document.querySelectorAll('[data-testid="log-table"] tr[data-log-type="ERROR"]').length >= Math.min(n, 50),
      WAIT,
      errors.length,
    );
    const shownErrors = await page.$$eval('[data-testid="log-table"] tr[data-log-type="ERROR"] td:nth-child(3)', (cells) => cells.map((c) => c.textContent));
    expect(shownErrors).toEqual(errors.slice(0, 50).map((e) => `${e.messageId ? `${e.messageId} ` : ''}${e.message}`));
    expect(await page.$eval('h1', (h1) => h1.textContent)).toBe(failed.jobName);
    expect(await page.$eval('[data-testid="session-fields"] [data-status]', (s) => s.getAttribute('data-status'))).toBe('FAILED');
    await page.screenshot({ path: `${ARTIFACTS}session.png`, fullPage: true });
  });

  it("the dashboard tiles show the gateway's statistics for 12 hours and 7 days", async () => {
    const [hash] = Object.entries(JSON.parse(readFileSync(MANIFEST, 'utf8')) as Record<string, string>).find(([, body]) =>
      body.includes('query DashboardTiles'),
    )!;
    const response = await fetch(h.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...basic(ADMIN) },
      body: JSON.stringify({ documentId: hash }),
    });
    const stats = ((await response.json()) as any).data;
    await page.goto(`${app.url}#/dashboard`);
    await page.waitForSelector('[data-testid="tiles-last-7-days"] .tile-value', WAIT);
    const runs = await page.$$eval('.tiles-group', (groups) => groups.map((g) => g.querySelector('.tile-value')!.textContent));
    expect(runs).toEqual([String(stats.last12Hours.totalRuns), String(stats.last7Days.totalRuns)]);
    await page.screenshot({ path: `${ARTIFACTS}dashboard.png` });
  });

  it("is usable by keyboard: a tab link followed with Enter moves focus to the new screen's heading", async () => {
    await page.focus('nav a[href="#/history"]');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.activeElement?.tagName === 'H1' && document.activeElement.textContent === 'History', WAIT);
    expect(await page.$eval('nav a[aria-current="page"]', (a) => a.textContent)).toBe('History');
  });

  it("shows the gateway's error message and code when a request fails", async () => {
    await page.goto(`${app.url}#/session/not-an-id`);
    await page.waitForSelector('[role="alert"]', WAIT);
    const alert = await page.$eval('[role="alert"]', (a) => a.textContent);
    expect(alert).toMatch(/^Could not load the session\..+BAD_USER_INPUT$/);
    await page.screenshot({ path: `${ARTIFACTS}error.png` });
  });

  it('made no request to any host but the gateway and its own origin, and sent only document hashes', async () => {
    const allowed = [new URL(app.url).origin, new URL(h.gateway.url).origin];
    // data: URLs are the browser's own (the date input's icon), never the network.
    expect(requested.filter((url) => !url.startsWith('data:') && !allowed.includes(new URL(url).origin))).toEqual([]);
    expect(requested.some((url) => url.startsWith(h.gateway.url))).toBe(true);
    expect(sockets.length).toBeGreaterThan(0);
    expect(sockets.filter((url) => url !== h.gateway.url.replace(/^http/, 'ws'))).toEqual([]);
    expect(posted.length).toBeGreaterThan(0);
    expect(posted.filter((p) => 'query' in p)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('hands the app no credential: config.json holds only the gateway URL, and the session cookie is HttpOnly', async () => {
    expect(await (await fetch(new URL('config.json', app.url))).json()).toEqual({ gatewayUrl: h.gateway.url });
    const cookie = (await page.cookies(h.gateway.url)).find((c) => c.name === 'spp-gateway-session')!;
    expect({ httpOnly: cookie.httpOnly, sameSite: cookie.sameSite }).toEqual({ httpOnly: true, sameSite: 'Lax' });
    expect(await page.evaluate(() => document.cookie)).not.toContain('spp-gateway-session');
  });

  it('monitor (a read-only SPP user) sees no enabled Cancel, where admin sees some', async () => {
    const context = await browser.createBrowserContext();
    try {
      const monitor = await context.newPage();
      await signInAs(monitor, app.url, MONITOR);
      await monitor.waitForSelector('[data-testid="running-table"] tbody tr', WAIT);
      expect(await monitor.$eval('[data-testid="signed-in-as"]', (e) => e.textContent)).toBe('monitor');
      const enabled = await monitor.$$eval(
        '[data-testid="running-table"] tbody tr button',
        (buttons) => buttons.filter((b) => !(b as HTMLButtonElement).disabled).length,
      );
      expect(enabled).toBe(0);
      await page.goto(`${app.url}#/running`);
      await page.waitForSelector('[data-testid="running-table"] tbody tr', WAIT);
      await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="running-table"] tbody tr button')].some((b: any) => !b.disabled), WAIT);
    } finally {
      await context.close();
    }
  });

  it('signing out in one tab signs out the other, and a wrong password is told on the sign-in screen', async () => {
    const context = await browser.createBrowserContext();
    try {
      const first = await context.newPage();
      await signInAs(first, app.url, ADMIN);
      const second = await context.newPage();
      await second.goto(`${app.url}#/history`);
      // Two tabs, one in the background: waitForSelector's animation-frame polling stops there, a timer does not.
      const shows = (tab: Page, selector: string) => tab.waitForFunction((s: string) => document.querySelector(s) !== null, WAIT, selector);
      await shows(second, '[data-testid="signed-in-as"]');
      const old = (await first.cookies(h.gateway.url)).find((c) => c.name === 'spp-gateway-session')!;
      await first.bringToFront();
      await first.click('header .user button');
      await shows(first, '[data-testid="sign-in"]');
      await shows(second, '[data-testid="sign-in"]');
      // The old cookie is refused by the gateway too, not only forgotten by the app.
      const replay = await fetch(new URL('/auth/session', h.gateway.url), { headers: { cookie: `${old.name}=${old.value}` } });
      expect(await replay.json()).toMatchObject({ signedIn: false, ended: true });

      await second.bringToFront();
      await second.type('input[name="username"]', 'admin');
      await second.type('input[name="password"]', 'wrong');
      await second.click('[data-testid="sign-in"] button[type="submit"]');
      await second.waitForSelector('[data-testid="sign-in"] [role="alert"]', WAIT);
      expect(await second.$eval('[data-testid="sign-in"] [role="alert"]', (e) => e.textContent)).toBe('SPP refused the user name or password.');
      await second.screenshot({ path: `${ARTIFACTS}sign-in.png` });
    } finally {
      await context.close();
    }
  });
});
