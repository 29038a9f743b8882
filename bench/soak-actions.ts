/**
 * The soak's actions and job logs (bench/soak.ts).
 *
 * - Actions: cancel a running session or rerun a failed one, each session acted on once in the
 *   whole run. With a `clientMutationId` the same submission is sent to both replicas at once
 *   (a double click behind a load balancer) and, when an answer is an upstream error, once more
 *   (a client's retry); without one it is sent once (nothing may be retried without a key).
 *   The simulator's request log says how often SPP was asked: per submission, at most one POST
 *   that acted (2xx) or may have acted (no answer: hung or dropped), and no POST after one of
 *   those. A POST SPP refused (4xx/5xx) acted not, so one retry after it is allowed.
 * - Job logs: a walk of `JobSession.log` (forward, pages of 50 to 200) of a finished session,
 *   compared entry by entry with the simulator's own log of it.
 */
import type { SimRequestLogEntry, Simulator } from '../src/simulator/index.js';

export interface Answer {
  status: number;
  codes: string[];
  json: any;
}
type Gql = (op: string, query: string, variables: Record<string, unknown>, replica?: number) => Promise<Answer>;

interface Submission {
  id: string;
  action: 'cancel' | 'rerun';
  keyed: boolean;
  answers: Answer[];
}

const submissions: Submission[] = [];
const acted = new Set<string>();
/** Every action POST the simulator saw, in order, harvested before its request log is cleared. */
const posts = new Map<string, Array<{ status: number; at: number }>>();

const ACTION_PATH = /^\/api\/endeavour\/jobsession\/(\d+)$/;

export function harvestPosts(requests: readonly SimRequestLogEntry[]): void {
  for (const r of requests) {
    const match = r.method === 'POST' ? ACTION_PATH.exec(r.path) : null;
    if (!match) continue;
    const key = `${match[1]}|${r.query.action ?? ''}`;
    posts.set(key, [...(posts.get(key) ?? []), { status: r.status, at: r.at }]);
  }
}

const CANCEL = `mutation Cancel($input: CancelJobSessionInput!) { cancelJobSession(input: $input) { clientMutationId jobSession { sessionId status } } }`;
const RERUN = `mutation Rerun($input: RerunJobSessionInput!) { rerunJobSession(input: $input) { clientMutationId jobSession { sessionId } newJobSession { sessionId } } }`;

const upstreamOnly = (a: Answer) => a.codes.length > 0 && a.codes.every((c) => c.startsWith('UPSTREAM_') || c.startsWith('CLIENT_'));
let submissionCounter = 0;

/** One submission: cancel a running session or rerun a failed one, with or without a clientMutationId. */
export async function act(current: () => Simulator, gql: Gql, keyed: boolean, touched: Set<string>): Promise<void> {
  const sim = current();
  const action = Math.random() < 0.5 ? 'cancel' : 'rerun';
  const wanted = action === 'cancel' ? ['RUNNING', 'PENDING'] : ['FAILED', 'PARTIAL'];
  const candidates = sim.list({}).filter((s) => wanted.includes(String(s.status)) && !acted.has(s.id) && s.links?.[action]);
  const session = candidates[Math.floor(Math.random() * candidates.length)];
  if (!session) return;
  acted.add(session.id);
  // Its status changes (cancel) or a session appears (rerun): cursor walks do not judge it.
  touched.add(session.id);
  const submission: Submission = { id: session.id, action, keyed, answers: [] };
  submissions.push(submission);
  const input = { id: session.id, ...(keyed ? { clientMutationId: `soak-${process.pid}-${++submissionCounter}` } : {}) };
  const query = action === 'cancel' ? CANCEL : RERUN;
  const op = `${action} ${keyed ? 'with' : 'without'} clientMutationId`;
  const created = (a: Answer) => a.json?.data?.rerunJobSession?.newJobSession?.sessionId as string | undefined;
  if (!keyed) {
    submission.answers.push(await gql(op, query, { input }));
  } else {
    submission.answers.push(...(await Promise.all([gql(op, query, { input }, 0), gql(`${op} (duplicate)`, query, { input }, 1)])));
    if (submission.answers.some(upstreamOnly)) {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      // A simulator restart meanwhile may have taken the session away (NOT_FOUND is then the answer).
      submission.answers.push(await gql(`${op} (retry${current().get(session.id) ? '' : ', session gone'})`, query, { input }));
    }
  }
  for (const a of submission.answers) {
    const id = created(a);
    if (id) touched.add(id);
  }
}

export interface ActionVerdict {
  submissions: number;
  keyed: number;
  actedOnce: number;
  twice: string[];
}

/** `faultsAround(from, to)` names the fault windows near a submission, for the report. */
export function judgeActions(faultsAround: (from: number, to: number) => string): ActionVerdict {
  const twice: string[] = [];
  let actedOnce = 0;
  for (const s of submissions) {
    const seen = posts.get(`${s.id}|${s.action}`) ?? [];
    // A POST that acted (2xx) or may have (no answer), then any other POST: submitted twice.
    const firstMaybe = seen.findIndex((p) => p.status === 0 || (p.status >= 200 && p.status < 300));
    if (firstMaybe >= 0 && firstMaybe < seen.length - 1) {
      twice.push(
        `${s.action} of session ${s.id} (${s.keyed ? 'with' : 'without'} clientMutationId): SPP saw POSTs answered ${seen.map((p) => `${p.status} at ${new Date(p.at).toISOString().slice(11, 23)}`).join(', ')}; the gateway answered ${s.answers.map((a) => a.codes.join('+') || a.status).join(', ')}; faults around: ${faultsAround(seen[0]!.at - 5_000, seen.at(-1)!.at)}`,
      );
    } else if (!s.keyed && seen.length > 1) {
      twice.push(`${s.action} of session ${s.id} without clientMutationId: ${seen.length} POSTs (${seen.map((p) => p.status).join(', ')}) for one request`);
    }
    if (seen.filter((p) => p.status >= 200 && p.status < 300).length === 1) actedOnce++;
  }
  return { submissions: submissions.length, keyed: submissions.filter((s) => s.keyed).length, actedOnce, twice };
}

// ---------------------------------------------------------------------------------------
// Job logs

const LOG = `query Log($id: ID!, $first: Int, $after: String) {
  jobSession(id: $id) { log(first: $first, after: $after) { edges { node { entryId } } pageInfo { hasNextPage endCursor } } }
}`;

export interface LogVerdict {
  walks: number;
  exact: number;
  failures: string[];
}
const logVerdict: LogVerdict = { walks: 0, exact: 0, failures: [] };

/** A forward walk of a finished session's job log, retried page by page through faults, compared with the simulator's log. */
export async function logWalk(sim: Simulator, gql: Gql, untouchable: ReadonlySet<string>): Promise<void> {
  const finished = sim.list({}).filter((s) => ['COMPLETED', 'FAILED', 'PARTIAL'].includes(String(s.status)) && !untouchable.has(s.id));
  // Among the newest (the list is oldest first): the live steps expire the oldest.
  const session = finished[finished.length - 1 - Math.floor(Math.random() * Math.min(finished.length, 2_000))];
  if (!session) return;
  const expected = sim.logOf(session.id).map((e) => e.id);
  const size = 50 + Math.floor(Math.random() * 150);
  const seen: string[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 200; pages++) {
    let page: any;
    for (let attempt = 0; attempt < 40 && page === undefined; attempt++) {
      const answer = await gql('job log walk', LOG, { id: session.id, first: size, after });
      if (answer.status === 200 && answer.codes.length === 0) page = answer.json.data.jobSession?.log ?? null;
      else if (!upstreamOnly(answer)) break;
      else await new Promise((resolve) => setTimeout(resolve, 250));
    }
    if (!page) {
      if (untouchable.has(session.id)) return; // expired meanwhile: not judged
      logVerdict.walks++;
      logVerdict.failures.push(`the log walk of session ${session.id} stopped after ${pages} pages: a page never got an answer`);
      return;
    }
    seen.push(...page.edges.map((e: { node: { entryId: string } }) => e.node.entryId));
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  if (untouchable.has(session.id)) return;
  logVerdict.walks++;
  if (JSON.stringify(seen) === JSON.stringify(expected)) logVerdict.exact++;
  else
    logVerdict.failures.push(
      `the log walk of session ${session.id} returned ${seen.length} entries, the simulator has ${expected.length} (first difference at ${seen.findIndex((id, i) => id !== expected[i])})`,
    );
}

export const judgeLogs = (): LogVerdict => logVerdict;
