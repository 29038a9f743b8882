import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import type { SppJob, SppJobLogEntry, SppJobSessionStats } from '../../src/spp-api/types.js';
import { CATALOG_OPERATOR, getJson, login } from './helpers.js';

const NOW = Date.UTC(2026, 10, 1, 12, 0, 0);
const HOUR = 3_600_000;
const q = (path: string, params: Record<string, unknown>) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) p.set(k, typeof v === 'string' ? v : JSON.stringify(v));
  return `${path}?${p.toString()}`;
};

describe('simulated job definitions', () => {
  let sim: Simulator;
  let sid: string;
  beforeAll(async () => {
    sim = await startSimulator({ now: NOW, clock: () => NOW });
    sid = await login(sim);
  });
  afterAll(() => sim.close());

  it('lists a job for every jobId of the sessions, with lastrun, lastRunTime and nextFireTime agreeing with them', async () => {
    const { status, body } = await getJson<{ jobs: SppJob[]; total: number }>(sim, q('/api/endeavour/job', { pageSize: 100 }), sid);
    expect(status).toBe(200);
    const jobs = new Map(body.jobs.map((j) => [j.id, j]));
    expect(body.total).toBe(body.jobs.length);
    const sessions = sim.list();
    for (const s of sessions) expect(jobs.has(s.jobId)).toBe(true);
    for (const job of body.jobs) {
      const own = sessions.filter((s) => s.jobId === job.id);
      const newest = own.reduce((a, b) => (b.start > a.start || (b.start === a.start && Number(b.id) > Number(a.id)) ? b : a));
      expect(job.lastRunTime).toBe(newest.start);
      expect(job.lastrun?.sessionId).toBe(newest.id);
      expect(job.lastSessionStatus).toBe(newest.status);
      expect(job.lastSessionDuration).toBe(newest.duration ?? null);
      if (job.type === 'recovery') expect(job.nextFireTime).toBeNull();
      else expect(job.nextFireTime!).toBeGreaterThan(NOW);
    }
    // Ordered by name by default.
    expect(body.jobs.map((j) => j.name)).toEqual([...body.jobs.map((j) => j.name)].sort());
  });

  it('filters jobs with IN on id, sorts by nextFireTime with the unscheduled ones first, and answers one job by id', async () => {
    const byId = await getJson<{ jobs: SppJob[] }>(sim, q('/api/endeavour/job', { filter: [{ property: 'id', value: ['1005', 1003], op: 'IN' }] }), sid);
    expect(byId.body.jobs.map((j) => j.id).sort()).toEqual(['1003', '1005']);
    const sorted = await getJson<{ jobs: SppJob[] }>(sim, q('/api/endeavour/job', { sort: [{ property: 'nextFireTime', direction: 'ASC' }] }), sid);
    expect(sorted.body.jobs.slice(0, 2).map((j) => j.nextFireTime)).toEqual([null, null]);
    const one = await getJson<SppJob>(sim, '/api/endeavour/job/1005', sid);
    expect(one.body).toMatchObject({ id: '1005', name: 'vmware_Gold', type: 'protection' });
    expect((await getJson(sim, '/api/endeavour/job/999', sid)).status).toBe(404);
  });

  it('shows the catalog operator only catalog jobs and refuses the others by id', async () => {
    const op = await login(sim, CATALOG_OPERATOR);
    const { body } = await getJson<{ jobs: SppJob[] }>(sim, '/api/endeavour/job', op);
    expect(new Set(body.jobs.map((j) => j.type))).toEqual(new Set(['catalog']));
    expect(body.jobs.map((j) => j.id)).toEqual(
      sim
        .jobs({ user: 'catalog-operator' })
        .sort((a, b) => (a.name < b.name ? -1 : 1))
        .map((j) => j.id),
    );
    const denied = await getJson<{ id: string }>(sim, '/api/endeavour/job/1005', op);
    expect(denied.status).toBe(403);
    expect(denied.body.id).toBe('XSBAccessDeniedException');
  });
});

describe('simulated job logs', () => {
  let sim: Simulator;
  let sid: string;
  beforeAll(async () => {
    sim = await startSimulator({ now: NOW, clock: () => NOW });
    sid = await login(sim);
  });
  afterAll(() => sim.close());

  const logs = (filter: unknown, extra: Record<string, unknown> = {}) =>
    getJson<{ logs: SppJobLogEntry[]; total: number }>(sim, q('/api/endeavour/log/job', { filter, pageSize: 10_000, ...extra }), sid);

  it('generates the same log for a session every time, ordered by logTime within [start, end], from a handful to thousands of entries', async () => {
    const sessions = sim.list();
    const inventory = sessions.find((s) => s.jobName === 'Maintenance' && s.status === 'COMPLETED')!;
    const mailboxes = sessions.find((s) => s.jobName === 'office365_Silver' && s.status === 'PARTIAL')!;
    const small = await logs([{ property: 'jobsessionId', value: inventory.id, op: '=' }]);
    const large = await logs([{ property: 'jobsessionId', value: Number(mailboxes.id) }]);
    expect(small.body.logs.length).toBeGreaterThanOrEqual(5);
    expect(small.body.logs.length).toBeLessThan(60);
    expect(large.body.logs.length).toBeGreaterThan(1_000);
    expect(large.body.total).toBe(large.body.logs.length);
    for (const { body } of [small, large]) {
      const session = sim.get(String(body.logs[0]!.jobsessionId))!;
      for (const [i, e] of body.logs.entries()) {
        expect(typeof e.jobsessionId).toBe('number');
        expect(e.logTime).toBeGreaterThanOrEqual(session.start);
        expect(e.logTime).toBeLessThanOrEqual(session.end!);
        if (i > 0) expect(e.logTime).toBeGreaterThanOrEqual(body.logs[i - 1]!.logTime);
        expect(e.messageId).toMatch(/^CTGGA\d{4}$/);
        expect(e.message).not.toMatch(/\{\d\}/);
      }
    }
    // The failed mailboxes of the record's statistics have ERROR lines naming them.
    const names = mailboxes.properties!.statistics![0]!.names ?? [];
    const errors = large.body.logs.filter((e) => e.type === 'ERROR').map((e) => e.messageParams![1]);
    for (const name of names) expect(errors).toContain(name);
    expect(large.body.logs.at(-1)).toMatchObject({ type: 'SUMMARY', messageId: 'CTGGA2401' });
    const again = await logs([{ property: 'jobsessionId', value: mailboxes.id, op: '=' }]);
    expect(again.body.logs).toEqual(large.body.logs);
  });

  it('filters on type (IN) and logTime, and ignores messageId as SPP does', async () => {
    const session = sim.list().find((s) => s.status === 'FAILED' && s.type === 'protection')!;
    const all = sim.logOf(session.id);
    const errors = await logs([
      { property: 'jobsessionId', value: session.id, op: '=' },
      { property: 'type', value: ['ERROR'], op: 'IN' },
    ]);
    expect(errors.body.logs.map((e) => e.id)).toEqual(all.filter((e) => e.type === 'ERROR').map((e) => e.id));
    const mid = all[Math.floor(all.length / 2)]!.logTime;
    const late = await logs([
      { property: 'jobsessionId', value: session.id, op: '=' },
      { property: 'logTime', value: mid, op: '>=' },
    ]);
    expect(late.body.logs.map((e) => e.id)).toEqual(all.filter((e) => e.logTime >= mid).map((e) => e.id));
    const byMessage = await logs([
      { property: 'jobsessionId', value: session.id, op: '=' },
      { property: 'messageId', value: ['CTGGA2402'], op: 'IN' },
    ]);
    expect(byMessage.body.total).toBe(all.length);
  });

  it('answers 400 without a jobsessionId filter, and hides the logs of sessions the user may not see', async () => {
    const bad = await getJson<{ id: string; description: string }>(sim, '/api/endeavour/log/job', sid);
    expect(bad.status).toBe(400);
    expect(bad.body.description).toMatch(/jobsessionId/);
    const protection = sim.list().find((s) => s.type === 'protection')!;
    const catalog = sim.list().find((s) => s.type === 'catalog')!;
    const op = await login(sim, CATALOG_OPERATOR);
    const hidden = await getJson<{ logs: unknown[]; total: number }>(
      sim,
      q('/api/endeavour/log/job', { filter: [{ property: 'jobsessionId', value: protection.id, op: '=' }] }),
      op,
    );
    expect(hidden.body).toMatchObject({ total: 0, logs: [] });
    const shown = await getJson<{ logs: unknown[]; total: number }>(
      sim,
      q('/api/endeavour/log/job', { filter: [{ property: 'jobsessionId', value: catalog.id, op: '=' }] }),
      op,
    );
    expect(shown.body.total).toBe(sim.logOf(catalog.id).length);
  });
});

describe('simulated live logs', () => {
  it('grows a running session log at its end, never rewriting what was served, and closes it with a summary', async () => {
    let t = NOW;
    const sim = await startSimulator({ now: NOW, clock: () => t, size: 300 });
    try {
      t += 1_000;
      const [id] = sim.step({ insert: 1 }).inserted;
      let previous = [...sim.logOf(id!)];
      expect(previous.length).toBeGreaterThanOrEqual(3);
      let grew = 0;
      for (let i = 0; i < 12 && !['COMPLETED', 'PARTIAL', 'FAILED'].includes(sim.get(id!)!.status); i++) {
        t += 5_000;
        sim.step({ insert: 0 });
        const now = sim.logOf(id!);
        expect(now.slice(0, previous.length)).toEqual(previous);
        if (now.length > previous.length) grew++;
        for (const e of now.slice(previous.length)) expect(e.logTime).toBeLessThanOrEqual(t);
        previous = [...now];
      }
      expect(grew).toBeGreaterThan(1);
      expect(previous.at(-1)).toMatchObject({ type: 'SUMMARY' });
    } finally {
      await sim.close();
    }
  });
});

describe('simulated session statistics', () => {
  it('counts the sessions of the time window by status, with the UI groups', async () => {
    const sim = await startSimulator({ now: NOW, clock: () => NOW });
    try {
      const sid = await login(sim);
      const { status, body } = await getJson<SppJobSessionStats>(
        sim,
        q('/api/endeavour/jobsession/stats', {
          filter: [
            { property: 'rangeunit', value: 'day', op: '=' },
            { property: 'range', value: 30, op: '=' },
          ],
        }),
        sid,
      );
      expect(status).toBe(200);
      const window = sim.list().filter((s) => s.start >= NOW - 30 * 24 * HOUR);
      const count = (...statuses: string[]) => window.filter((s) => statuses.includes(s.status)).length;
      expect(body).toMatchObject({
        start: NOW - 30 * 24 * HOUR,
        end: NOW,
        totalRuns: window.length,
        successful: count('COMPLETED'),
        failed: count('FAILED'),
        warning: count('PARTIAL', 'CANCELED', 'ABORTED'),
        running: count('RUNNING', 'PENDING', 'WAITING'),
        COMPLETED: count('COMPLETED'),
        CANCELLED: count('CANCELED'),
        STOPPED: count('STOPPED'),
        successPercent: Math.round((count('COMPLETED') * 100) / window.length),
      });
      expect(window.length).toBeGreaterThan(50);
      const op = await login(sim, CATALOG_OPERATOR);
      const mine = await getJson<SppJobSessionStats>(sim, '/api/endeavour/jobsession/stats', op);
      expect(mine.body.totalRuns).toBe(sim.list({ user: 'catalog-operator' }).length);
    } finally {
      await sim.close();
    }
  });
});

describe('simulated quirks on jobs and logs', () => {
  it('reports total 0 on jobsession only (APAR IT45897), and pages every list by 100 when pageSize is ignored', async () => {
    const sim = await startSimulator({ now: NOW, clock: () => NOW, quirks: { totalAlwaysZero: true, ignorePageSize: true } });
    try {
      const sid = await login(sim);
      const session = sim.list().find((s) => s.jobName === 'office365_Silver' && s.status === 'COMPLETED')!;
      const sessions = await getJson<{ total: number; sessions: unknown[] }>(sim, q('/api/endeavour/jobsession', { pageSize: 5 }), sid);
      expect(sessions.body.total).toBe(0);
      expect(sessions.body.sessions).toHaveLength(100);
      const logs = await getJson<{ total: number; logs: unknown[] }>(
        sim,
        q('/api/endeavour/log/job', { pageSize: 500, filter: [{ property: 'jobsessionId', value: session.id, op: '=' }] }),
        sid,
      );
      expect(logs.body.total).toBe(sim.logOf(session.id).length);
      expect(logs.body.logs).toHaveLength(100);
      const jobs = await getJson<{ total: number; jobs: unknown[] }>(sim, q('/api/endeavour/job', { pageSize: 5 }), sid);
      expect(jobs.body.total).toBe(sim.jobs().length);
      expect(jobs.body.jobs).toHaveLength(sim.jobs().length);
    } finally {
      await sim.close();
    }
  });
});
