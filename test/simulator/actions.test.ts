import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { ADMIN, CATALOG_OPERATOR, getJson, login } from './helpers.js';
import type { SppJob, SppJobSession } from '../../src/spp-api/types.js';

const MONITOR = { username: 'monitor', password: 'monitor-password' };
const NOW = Date.UTC(2026, 10, 1, 12, 0, 0);

async function post(sim: Simulator, path: string, sessionId: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { 'x-endeavour-sessionid': sessionId, 'content-type': 'application/json', accept: 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe('simulator actions (docs/spp-api.md#acting-on-jobs)', () => {
  let sim: Simulator;
  let admin: string;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 3, size: 400, now: NOW });
    sim.step({ insert: 20 });
    admin = await login(sim, ADMIN);
  });
  afterAll(() => sim.close());

  const cancelable = () => sim.list().filter((s) => s.links?.cancel !== undefined);

  it('cancels with 201 and the updated session (CANCELING, no actions offered), CANCELED after the next live step', async () => {
    const target = cancelable()[0]!;
    const answer = await post(sim, `/api/endeavour/jobsession/${target.id}?action=cancel`, admin, { catalogCompletedObjects: true });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ id: target.id, status: 'CANCELING', statusDisplayName: 'Canceling', end: null });
    expect(Object.values(answer.body.links as Record<string, { rel: string }>).filter((l) => l.rel === 'action')).toEqual([]);
    const again = await post(sim, `/api/endeavour/jobsession/${target.id}?action=cancel`, admin, {});
    expect(again).toEqual({
      status: 409,
      body: { id: 'XSBInvalidStateException', description: `Job session ${target.id} cannot be canceled while its status is CANCELING.` },
    });
    sim.step({ insert: 0 });
    const settled = sim.get(target.id)!;
    expect(settled).toMatchObject({ status: 'CANCELED', end: expect.any(Number) });
    expect(settled.links?.expire).toBeDefined();
  });

  it('refuses a malformed body or catalogCompletedObjects with 400, an unknown action with 400', async () => {
    const target = cancelable()[0]!;
    expect((await post(sim, `/api/endeavour/jobsession/${target.id}?action=cancel`, admin, '{not json')).status).toBe(400);
    expect((await post(sim, `/api/endeavour/jobsession/${target.id}?action=cancel`, admin, { catalogCompletedObjects: 'yes' })).status).toBe(400);
    expect((await post(sim, `/api/endeavour/jobsession/${target.id}?action=explode`, admin, {})).status).toBe(400);
    expect(sim.get(target.id)!.status).toBe(target.status);
  });

  it('serves the start schema of an SLA job and starts a RUNNING session of the chosen sub-policy; the job offers no start while it runs', async () => {
    const job = sim.jobs().find((j) => j.links?.start?.schema !== undefined)!;
    const schemaPath = new URL(job.links!.start!.schema!).pathname + new URL(job.links!.start!.schema!).search;
    const schema = await getJson<any>(sim, schemaPath, admin);
    expect(schema.status).toBe(200);
    const values = schema.body.parameter.actionname.values as Array<{ name: string; value: string }>;
    expect(values[0]).toEqual({ name: 'Backup', value: 'BACKUP' });
    const unknown = await post(sim, `/api/endeavour/job/${job.id}?action=start&actionname=start`, admin, { actionname: 'NOPE' });
    expect(unknown.status).toBe(400);
    const started = await post(sim, `/api/endeavour/job/${job.id}?action=start&actionname=start`, admin, { actionname: values.at(-1)!.value });
    expect(started.status).toBe(201);
    expect((started.body as SppJob).links?.start).toBeUndefined();
    const newest = sim.list({ filter: [{ property: 'jobId', value: job.id, op: '=' }], sort: [{ property: 'start', direction: 'DESC' }] })[0]!;
    expect(newest).toMatchObject({ status: 'RUNNING', subPolicyType: values.at(-1)!.value });
    expect((await post(sim, `/api/endeavour/job/${job.id}?action=start&actionname=start`, admin, {})).status).toBe(409);
  });

  it('reruns a rerunnable session as a new RUNNING one, and expires a finished one with its log', async () => {
    const failed = sim.list().find((s) => s.links?.rerun !== undefined && sim.jobs().find((j) => j.id === s.jobId)?.status !== 'ACTIVE')!;
    const before = sim.list().length;
    const rerun = await post(sim, `/api/endeavour/jobsession/${failed.id}?action=rerun`, admin, {});
    expect(rerun).toMatchObject({ status: 201, body: { id: failed.id } });
    expect(sim.list().length).toBe(before + 1);
    expect(sim.list().at(-1)).toMatchObject({ jobId: failed.jobId, status: 'RUNNING', subPolicyType: failed.subPolicyType ?? null });

    const done = sim.list().find((s) => s.status === 'COMPLETED' && s.links?.expire !== undefined)!;
    expect(sim.logOf(done.id).length).toBeGreaterThan(0);
    const expired = await post(sim, `/api/endeavour/jobsession/${done.id}?action=expire`, admin, {});
    expect(expired).toMatchObject({ status: 201, body: { id: done.id, expired: true } });
    expect(sim.get(done.id)).toBeUndefined();
    expect(sim.logOf(done.id)).toEqual([]);
    expect((await getJson(sim, `/api/endeavour/jobsession/${done.id}`, admin)).status).toBe(404);
  });

  it('advertises actions by role: the monitor sees sessions without action links and is refused with 403; the catalog operator acts only on catalog jobs', async () => {
    const monitor = await login(sim, MONITOR);
    const operator = await login(sim, CATALOG_OPERATOR);
    const target = cancelable().find((s) => s.type !== 'catalog')!;
    const seen = await getJson<SppJobSession>(sim, `/api/endeavour/jobsession/${target.id}`, monitor);
    expect(seen.status).toBe(200);
    expect(seen.body.links?.cancel).toBeUndefined();
    expect(seen.body.links?.log).toBeDefined();
    const listed = await getJson<{ jobs: SppJob[] }>(sim, '/api/endeavour/job?pageSize=100', monitor);
    expect(listed.body.jobs.every((j) => j.links?.start === undefined)).toBe(true);
    expect((await post(sim, `/api/endeavour/jobsession/${target.id}?action=cancel`, monitor, {})).status).toBe(403);
    expect((await post(sim, `/api/endeavour/jobsession/${target.id}?action=cancel`, operator, {})).status).toBe(403);
    expect(sim.get(target.id)!.status).toBe(target.status);
    const catalogSession = cancelable().find((s) => s.type === 'catalog')!;
    expect(await post(sim, `/api/endeavour/jobsession/${catalogSession.id}?action=cancel`, operator, {})).toMatchObject({
      status: 201,
      body: { status: 'CANCELING' },
    });
    const asOperator = await getJson<{ jobs: SppJob[] }>(sim, '/api/endeavour/job?pageSize=100', operator);
    expect(asOperator.body.jobs.every((j) => j.type === 'catalog')).toBe(true);
  });
});
