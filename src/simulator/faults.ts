/**
 * Injected failures for the job-session endpoints.
 *
 * sppclient's status table documents 500 ("Unrecoverable Error – diagnosed in Virgo log") and
 * 503 ("too many requests going to the same controller"), spp-api.md §5; SPPMon's read timeouts
 * (§2.1 max page size) are what `hang` imitates, and `drop` a proxy or controller restart.
 * Random faults only hit `/api/endeavour/jobsession*` so login and the healthcheck stay usable;
 * `failNext` faults are deterministic (FIFO) and may target any path prefix.
 */
import type { SppErrorBody } from '../spp-api/types.js';
import type { Rng } from './rng.js';

export const JOBSESSION_PATH = '/api/endeavour/jobsession';

export type SimFault =
  | { kind: 'status'; status: number; retryAfterSeconds?: number; body?: SppErrorBody; path?: string; method?: string }
  | { kind: 'hang'; path?: string; method?: string }
  | { kind: 'drop'; path?: string; method?: string };

export interface FaultRates {
  /** fraction answered 500 or 503 (half each) */
  errorRate?: number;
  /** never answers until the socket is closed by the client or sim.close() */
  hangRate?: number;
  /** destroys the socket without a response */
  dropRate?: number;
}

export function defaultFaultBody(status: number): SppErrorBody {
  switch (status) {
    case 500:
      return {
        id: 'XSBInternalServerErrorException',
        description: 'An unrecoverable error occurred while processing the request. See the server log for details.',
      };
    case 503:
      return { id: 'XSBServiceUnavailableException', description: 'Too many requests are going to the same controller. Try again later.' };
    case 502:
    case 504:
      return { id: 'XSBGatewayException', description: `The controller did not answer in time (HTTP ${status}).` };
    case 429:
      return { id: 'XSBTooManyRequestsException', description: 'Too many requests. Try again later.' };
    default:
      return { id: 'XSBSimulatedFaultException', description: `Simulated failure with HTTP status ${status}.` };
  }
}

export class FaultInjector {
  private readonly queue: SimFault[] = [];

  constructor(
    public rates: FaultRates,
    private readonly rng: Rng,
  ) {}

  enqueue(faults: readonly SimFault[]): void {
    for (const f of faults) {
      if (f.kind === 'status' && (!Number.isInteger(f.status) || f.status < 100 || f.status > 599)) {
        throw new RangeError(`failNext: status must be an HTTP status code, got ${String(f.status)}`);
      }
      this.queue.push(f);
    }
  }

  get pending(): number {
    return this.queue.length;
  }

  clear(): void {
    this.queue.length = 0;
  }

  /**
   * The fault for a request to `path`, if any: the oldest queued fault whose path prefix
   * matches (default prefix: the jobsession endpoints), otherwise a random draw for
   * jobsession paths according to the configured rates.
   */
  take(path: string, method = 'GET'): SimFault | undefined {
    // A fault with a `method` (e.g. POST: an action) matches only requests of that method.
    const i = this.queue.findIndex((f) => path.startsWith(f.path ?? JOBSESSION_PATH) && (f.method === undefined || f.method === method));
    if (i >= 0) return this.queue.splice(i, 1)[0];
    if (!path.startsWith(JOBSESSION_PATH)) return undefined;
    const { errorRate = 0, hangRate = 0, dropRate = 0 } = this.rates;
    if (errorRate <= 0 && hangRate <= 0 && dropRate <= 0) return undefined;
    const r = this.rng();
    if (r < errorRate) {
      return this.rng() < 0.5 ? { kind: 'status', status: 500 } : { kind: 'status', status: 503, retryAfterSeconds: 1 };
    }
    if (r < errorRate + hangRate) return { kind: 'hang' };
    if (r < errorRate + hangRate + dropRate) return { kind: 'drop' };
    return undefined;
  }
}
