/** Public types of the SPP simulator (re-exported by index.ts). */
import type { SppFilter, SppJob, SppJobLogEntry, SppJobSession, SppSort } from '../spp-api/types.js';
import type { SimulatorUser } from './auth.js';
import type { FaultRates, SimFault } from './faults.js';

export type { SimulatorUser, SimFault, FaultRates };

export interface SimulatorQuirks {
  /** APAR IT45897: `total` is always 0 (paging links still work). */
  totalAlwaysZero?: boolean;
  /** pages are always 100 records whatever pageSize says */
  ignorePageSize?: boolean;
  /** records whose status is CANCELED read "CANCELLED" (the UI/stats spelling) */
  cancelledSpelling?: boolean;
}

export interface SimulatorOptions {
  /** default 1 */
  seed?: number;
  /** default 4877 sessions (the IBM sample record included) */
  size?: number;
  /** epoch ms the generated history ends at; default clock() at start */
  now?: number;
  /** default Date.now; used for session expiry, live mode, "now" */
  clock?: () => number;
  /** default: admin/admin-password (all types), catalog-operator/catalog-password (allowedTypes ['catalog']) */
  users?: SimulatorUser[];
  /** default 10000; larger pageSize is clamped */
  maxPageSize?: number;
  /** default 45*60_000 (idle timeout, refreshed by each authenticated request) */
  sessionIdleMs?: number;
  /** added to jobsession, job and log/job responses; default 0 */
  latency?: { fixedMs?: number; jitterMs?: number };
  faults?: FaultRates;
  quirks?: SimulatorQuirks;
  /** timer-driven live mode, off by default */
  live?: { intervalMs: number; insertPerTick?: number; expirePerTick?: number };
  /** serve HTTPS instead of HTTP */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** default 127.0.0.1 */
  host?: string;
  /** default 0 (any free port) */
  port?: number;
}

export interface SimRequestLogEntry {
  method: string;
  path: string;
  query: Record<string, string>;
  /** The `filter` parameter, JSON-parsed when it parses (else the raw string); absent when not sent. */
  filter?: unknown;
  sort?: unknown;
  /** HTTP status sent; 0 for hung or dropped requests. */
  status: number;
  /** The authenticated user, when the request carried a valid session (or logged in). */
  user?: string;
  /** clock() when the request arrived. */
  at: number;
  /** The W3C trace context the caller sent (SPP ignores it; the log shows what a trace would link). */
  traceparent?: string;
}

export interface Simulator {
  /** e.g. http://127.0.0.1:PORT (no trailing slash) */
  readonly url: string;
  readonly port: number;
  /** request log, appended when the response is sent (hung/dropped ones log status 0) */
  readonly requests: SimRequestLogEntry[];
  clearRequests(): void;
  /**
   * Resolves true once no request is being answered and none arrived for `quietMs` (default
   * 100), false after `timeoutMs` (default 10 s): tests that count requests start from a quiet SPP.
   */
  quiet(quietMs?: number, timeoutMs?: number): Promise<boolean>;
  /** The full ordered result the REST endpoint pages through (same code path as HTTP), for test comparisons. */
  list(params?: { filter?: SppFilter[]; sort?: SppSort[]; user?: string }): SppJobSession[];
  get(id: string): SppJobSession | undefined;
  /** The job definitions as `GET /api/endeavour/job` serves them now (for `user`: only the ones that user may see), by id. */
  jobs(params?: { user?: string }): SppJob[];
  /** A session's whole job log as `GET /api/endeavour/log/job` pages through it (empty for an unknown session). */
  logOf(sessionId: string): readonly SppJobLogEntry[];
  /**
   * Live-mode step, callable by tests: insert `insert` new sessions starting at clock() (RUNNING/PENDING),
   * progress running ones (percent, lastUpdate; finish some with COMPLETED/PARTIAL/FAILED, setting end/duration),
   * expire (remove) the `expire` oldest sessions by start. Returns the ids.
   */
  step(opts?: { insert?: number; expire?: number }): { inserted: string[]; expired: string[] };
  /** Change latency/faults/quirks at run time (each group is merged field by field into the current one). */
  configure(opts: Pick<SimulatorOptions, 'latency' | 'faults' | 'quirks' | 'sessionIdleMs' | 'maxPageSize'>): void;
  /** Queue deterministic faults for the next matching requests (FIFO). Optional `path` prefix (default: any /api/endeavour/jobsession request). */
  failNext(...faults: SimFault[]): void;
  /** Invalidate every login session (as if they idled out), to test re-login. */
  expireLoginSessions(): void;
  /** closes server and all sockets (including hung ones), stops live timer */
  close(): Promise<void>;
}
