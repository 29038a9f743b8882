import { describe, expect, it } from 'vitest';
import { startHarness } from '../support/harness.js';

const INTROSPECTION = '{ __schema { queryType { name } } }';

describe('production defaults', () => {
  it('turns introspection, the landing page and schema hints off with NODE_ENV=production', async () => {
    const h = await startHarness({ env: { NODE_ENV: 'production' }, sim: { size: 10 } });
    try {
      const introspection = await h.gql(INTROSPECTION);
      expect(introspection.status).toBe(400);
      expect(introspection.body.errors![0]!.message).toMatch(/^Introspection is off on this gateway \(GRAPHQL_INTROSPECTION/);
      const typo = await h.gql('{ jobSesions { totalCount } }');
      expect(typo.status).toBe(400);
      expect(typo.body.errors![0]!.message).not.toMatch(/Did you mean/);
      const landing = await fetch(h.gateway.url, { headers: { accept: 'text/html' } });
      expect(await landing.text()).not.toMatch(/<html/i);
    } finally {
      await h.close();
    }
  });

  it('lets GRAPHQL_INTROSPECTION and GRAPHQL_LANDING_PAGE turn them back on', async () => {
    const h = await startHarness({ env: { NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'true', GRAPHQL_LANDING_PAGE: 'true' }, sim: { size: 10 } });
    try {
      expect((await h.gql(INTROSPECTION)).body).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
      const landing = await fetch(h.gateway.url, { headers: { accept: 'text/html' } });
      expect(await landing.text()).toMatch(/<html/i);
    } finally {
      await h.close();
    }
  });

  it('offers introspection and field hints in development', async () => {
    const h = await startHarness({ sim: { size: 10 } });
    try {
      expect((await h.gql(INTROSPECTION)).status).toBe(200);
      expect((await h.gql('{ jobSesions { totalCount } }')).body.errors![0]!.message).toMatch(/Did you mean "jobSessions"/);
    } finally {
      await h.close();
    }
  });
});

describe('a public /metrics in production', () => {
  const warning = (h: { logs: string[] }) =>
    h.logs.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 40 && l.msg.startsWith('/metrics is public'));

  it('warns at start when NODE_ENV=production has neither METRICS_TOKEN nor METRICS_PORT, naming both', async () => {
    const h = await startHarness({ env: { NODE_ENV: 'production' }, sim: { size: 10 } });
    try {
      expect(warning(h)).toEqual([expect.objectContaining({ msg: expect.stringMatching(/Set METRICS_TOKEN, or METRICS_PORT/) })]);
    } finally {
      await h.close();
    }
  });

  it.each([
    ['METRICS_TOKEN', { METRICS_TOKEN: 'metrics-token-0123456789' }],
    ['METRICS_PORT', { METRICS_PORT: '0' }],
    ['development', { NODE_ENV: 'development' }],
  ])('does not warn with %s', async (_name, env) => {
    const h = await startHarness({ env: { NODE_ENV: 'production', ...env }, sim: { size: 10 } });
    try {
      expect(warning(h)).toEqual([]);
    } finally {
      await h.close();
    }
  });
});
