import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiKeys, sha256Hex } from '../../src/identity/api-keys.js';
import { ADMIN, startHarness, type Harness } from '../support/harness.js';

const READER_KEY = 'reader-key-0123456789abcdef';
const OPERATOR_KEY = 'operator-key-0123456789abcdef';
const LATE_KEY = 'late-key-0123456789abcdef';
const STATIC_TOKEN = 'static-gateway-token-0123456789';

const CANCEL = `mutation Cancel($input: CancelJobSessionInput!) { cancelJobSession(input: $input) { jobSession { id status } } }`;
const SESSIONS = `{ jobSessions(first: 50) { nodes { id availableActions } } }`;

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const auditLines = (h: Harness) =>
  h.logs
    .map((l) => JSON.parse(l))
    .filter((l) => l.audit)
    .map((l) => l.audit);

/** Waits (bounded) until `check` holds: file-change notifications arrive asynchronously. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 60; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting until ${what}`);
}

describe('API_KEYS_FILE: services have names and roles', () => {
  let h: Harness;
  let dir: string;
  let file: string;
  const write = (text: string) => {
    // As editors and Kubernetes do: write aside, then rename over the file.
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  };
  const yamlOf = (entries: Array<{ name: string; key: string; roles: string[]; budget?: string }>) =>
    `keys:\n${entries.map((e) => `  - name: ${e.name}\n    sha256: ${sha256Hex(e.key)}\n    roles: [${e.roles.join(', ')}]\n${e.budget ? `    budget: ${e.budget}\n` : ''}`).join('')}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'api-keys-'));
    file = join(dir, 'keys.yaml');
    write(
      yamlOf([
        { name: 'billing-report', key: READER_KEY, roles: ['viewer'], budget: '{ points: 5000, restorePerSecond: 100 }' },
        { name: 'ops-bot', key: OPERATOR_KEY, roles: ['operator'] },
      ]),
    );
    h = await startHarness({
      sim: { size: 300 },
      env: { API_KEYS_FILE: file },
      auth: { mode: 'service-account', serviceAccount: ADMIN, tokens: [STATIC_TOKEN], allowAnonymous: false },
    });
  });
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a viewer key reads, sees no actions and is refused a cancel with FORBIDDEN, audited under its name and role', async () => {
    const read = await h.gql(SESSIONS, {}, bearer(READER_KEY));
    expect(read.status).toBe(200);
    const nodes = (read.body.data as { jobSessions: { nodes: Array<{ id: string; availableActions: string[] }> } }).jobSessions.nodes;
    expect(nodes.length).toBeGreaterThan(0);
    expect(nodes.every((n) => n.availableActions.length === 0)).toBe(true);
    const target = h.sim.list({ user: 'admin' }).find((s) => s.links?.cancel !== undefined)!;
    const before = auditLines(h).length;
    const { body } = await h.gql(CANCEL, { input: { id: target.id } }, bearer(READER_KEY));
    expect(body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(body.errors?.[0]?.message).toBe(
      '"billing-report" has the viewer role, which reads only: starting, cancelling, rerunning and expiring need the operator role.',
    );
    expect(auditLines(h).slice(before)).toEqual([
      expect.objectContaining({ actor: 'billing-report', role: 'viewer', consumer: 'billing-report', action: 'CANCEL', outcome: 'refused', code: 'FORBIDDEN' }),
    ]);
  });

  it('an operator key sees the actions SPP advertises and cancels, audited under its name as operator', async () => {
    const read = await h.gql(SESSIONS, {}, bearer(OPERATOR_KEY));
    const nodes = (read.body.data as { jobSessions: { nodes: Array<{ availableActions: string[] }> } }).jobSessions.nodes;
    expect(nodes.some((n) => n.availableActions.includes('CANCEL'))).toBe(true);
    const target = h.sim.list({ user: 'admin' }).find((s) => s.links?.cancel !== undefined)!;
    const before = auditLines(h).length;
    const { body } = await h.gql(CANCEL, { input: { id: target.id } }, bearer(OPERATOR_KEY));
    expect(body.errors).toBeUndefined();
    expect(auditLines(h).slice(before)).toEqual([
      expect.objectContaining({ actor: 'ops-bot', role: 'operator', consumer: 'ops-bot', action: 'CANCEL', outcome: 'ok' }),
    ]);
  });

  it('static GATEWAY_TOKENS keep working next to the keys (viewers without GATEWAY_ALLOW_MUTATIONS), and an unknown key is 401', async () => {
    expect((await h.gql(SESSIONS, {}, bearer(STATIC_TOKEN))).status).toBe(200);
    const unknown = await h.gql(SESSIONS, {}, bearer('not-a-key-at-all'));
    expect(unknown.status).toBe(401);
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('a key added to the file is accepted without a restart, a removed one is refused; a broken edit keeps the keys in use', async () => {
    expect((await h.gql(SESSIONS, {}, bearer(LATE_KEY))).status).toBe(401);
    write(yamlOf([{ name: 'late-comer', key: LATE_KEY, roles: ['viewer'] }]));
    await eventually(async () => (await h.gql(SESSIONS, {}, bearer(LATE_KEY))).status === 200, 'the new key is accepted');
    expect((await h.gql(SESSIONS, {}, bearer(READER_KEY))).status).toBe(401);

    write('keys:\n  - name: broken\n    sha256: not-hex\n    roles: [viewer]\n');
    await eventually(async () => h.logs.some((l) => l.includes('API_KEYS_FILE not reloaded')), 'the broken edit is logged');
    const line = JSON.parse(h.logs.find((l) => l.includes('API_KEYS_FILE not reloaded'))!) as { msg: string };
    expect(line.msg).toContain('keys.0.sha256: expected the hex SHA-256 of the key (64 hex digits), never the key itself');
    expect((await h.gql(SESSIONS, {}, bearer(LATE_KEY))).status).toBe(200);
  });

  it('SIGHUP reloads the file', async () => {
    // Written in place: the change is seen on SIGHUP whether or not the folder watch fires first.
    writeFileSync(file, JSON.stringify({ keys: [{ name: 'json-key', sha256: sha256Hex(READER_KEY), roles: ['viewer'] }] }));
    process.emit('SIGHUP', 'SIGHUP');
    expect((await h.gql(SESSIONS, {}, bearer(READER_KEY))).status).toBe(200);
    expect((await h.gql(SESSIONS, {}, bearer(LATE_KEY))).status).toBe(401);
  });
});

describe('parseApiKeys', () => {
  const digest = sha256Hex('k');
  it('reads YAML and JSON of the documented shape, operators also being viewers', () => {
    const keys = parseApiKeys(
      `keys:\n  - name: a\n    sha256: ${digest.toUpperCase()}\n    roles: [operator]\n    budget: { points: 10, restorePerSecond: 1 }\n`,
    );
    expect([...keys]).toEqual([[digest, { name: 'a', roles: ['viewer', 'operator'], budget: { points: 10, restorePerSecond: 1 } }]]);
    expect([...parseApiKeys(JSON.stringify({ keys: [{ name: 'b', sha256: digest, roles: ['viewer'] }] }))]).toEqual([
      [digest, { name: 'b', roles: ['viewer'] }],
    ]);
  });
  it('says what is wrong with a bad file', () => {
    expect(() => parseApiKeys('keys: [{ name: a, sha256: abc, roles: [viewer] }]')).toThrow(
      'keys.0.sha256: expected the hex SHA-256 of the key (64 hex digits), never the key itself',
    );
    expect(() => parseApiKeys(`keys: [{ name: a, sha256: ${digest}, roles: [admin] }]`)).toThrow(/keys\.0\.roles\.0/);
    expect(() => parseApiKeys(`keys: [{ name: a, sha256: ${digest}, roles: [viewer] }, { name: a, sha256: ${digest}, roles: [viewer] }]`)).toThrow(
      'keys: the name "a" is used twice',
    );
    expect(() => parseApiKeys('nothing: here')).toThrow(/^keys: /);
  });
});
