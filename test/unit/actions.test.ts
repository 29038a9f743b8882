import { describe, expect, it } from 'vitest';
import { InMemoryIdempotencyStore } from '../../src/state/idempotency.js';
import { actionLink, apiPathOf, availableActions } from '../../src/actions/links.js';
import { reasonOf } from '../../src/actions/actions.js';

describe('the in-memory idempotency store', () => {
  it('lets the first claim act and gives every later claim of the key the first outcome', async () => {
    const store = new InMemoryIdempotencyStore();
    expect(await store.claim('k', 'f1', 60_000)).toEqual({ first: true });
    const waiting = await store.claim('k', 'f1', 60_000);
    expect(waiting).toMatchObject({ first: false, fingerprint: 'f1' });
    await store.settle('k', { ok: true, value: { n: 1 } }, 60_000);
    expect(await (waiting as { outcome: Promise<unknown> }).outcome).toEqual({ ok: true, value: { n: 1 } });
    const later = await store.claim('k', 'f2', 60_000);
    expect(later).toMatchObject({ first: false, fingerprint: 'f1' });
    expect(await (later as { outcome: Promise<unknown> }).outcome).toEqual({ ok: true, value: { n: 1 } });
  });

  it('forgets a key settled with keepMs 0 once its waiters have the outcome', async () => {
    const store = new InMemoryIdempotencyStore();
    await store.claim('k', 'f', 60_000);
    const waiting = (await store.claim('k', 'f', 60_000)) as { first: false; outcome: Promise<unknown> };
    await store.settle('k', { ok: false, error: { message: 'no', extensions: { code: 'ACTION_NOT_AVAILABLE' } } }, 0);
    expect(await waiting.outcome).toMatchObject({ ok: false });
    expect(await store.claim('k', 'f', 60_000)).toEqual({ first: true });
  });

  it('forgets a settled key after its window', async () => {
    const store = new InMemoryIdempotencyStore();
    await store.claim('k', 'f', 60_000);
    await store.settle('k', { ok: true, value: 1 }, 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await store.claim('k', 'f', 60_000)).toEqual({ first: true });
  });
});

describe('action links', () => {
  const links = {
    self: { href: 'https://spp:443/api/endeavour/jobsession/1', rel: 'self' },
    cancel: { href: 'https://spp:443/api/endeavour/jobsession/1?action=cancel', rel: 'action' },
    expire: { href: 'https://spp:443/api/endeavour/jobsession/1?action=expire', rel: 'view' },
    clone: { href: 'https://spp:443/api/endeavour/jobsession/1?action=clone', rel: 'action' },
    rerun: { href: 'https://spp:443/api/endeavour/jobsession/1?action=rerun', rel: 'action' },
  };

  it('lists the advertised actions this gateway performs: rel "action" only, unknown names left out, in a stable order', () => {
    expect(availableActions(links)).toEqual(['CANCEL', 'RERUN']);
    expect(availableActions(undefined)).toEqual([]);
    expect(actionLink(links, 'EXPIRE')).toBeUndefined();
    expect(actionLink(links, 'CANCEL')).toBe(links.cancel);
  });

  it('takes only the path and query of an href, never its host, and only under /api/endeavour/', () => {
    expect(apiPathOf('https://spp.example.com:443/api/endeavour/job/1005?action=start&actionname=start')).toBe(
      'endeavour/job/1005?action=start&actionname=start',
    );
    expect(apiPathOf('https://elsewhere.example/api/endeavour/jobsession/1?action=cancel')).toBe('endeavour/jobsession/1?action=cancel');
    expect(apiPathOf('https://spp/api/security/user/1')).toBeUndefined();
    expect(apiPathOf('not a url at all: ::')).toBe(undefined);
  });
});

describe("SPP's reason for a refusal", () => {
  it('is the description on one line, without URLs or a final period, at most 200 characters; nothing else of the body', () => {
    expect(reasonOf({ id: 'XSBInvalidStateException', description: 'Session 1 is\n  COMPLETED. See https://spp/help.' })).toBe(
      'Session 1 is COMPLETED. See [url]',
    );
    expect(reasonOf({ id: 'XSBInvalidStateException' })).toBeUndefined();
    expect(reasonOf('<html>boom</html>')).toBeUndefined();
    expect(reasonOf({ description: 'x'.repeat(500) })).toHaveLength(200);
  });
});
