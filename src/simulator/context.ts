/** What every simulator request handler shares: its context and the SPP error envelope. */
import type { ServerResponse } from 'node:http';
import type { SppErrorBody } from '../spp-api/types.js';
import type { LoginSessions } from './auth.js';
import type { FaultInjector } from './faults.js';
import type { Rng } from './rng.js';
import type { SessionStore } from './store.js';
import type { SimRequestLogEntry, SimulatorQuirks } from './types.js';

export interface HandlerSettings {
  maxPageSize: number;
  latency: { fixedMs: number; jitterMs: number };
  quirks: Required<SimulatorQuirks>;
}

export interface HandlerContext {
  readonly store: SessionStore;
  readonly logins: LoginSessions;
  readonly faults: FaultInjector;
  readonly clock: () => number;
  readonly settings: HandlerSettings;
  /** Draws the latency jitter. */
  readonly rng: Rng;
  readonly protocol: 'http' | 'https';
  /** host:port to use in absolute links when a request has no Host header. */
  readonly fallbackHost: string;
  log(entry: SimRequestLogEntry): void;
  /** Keeps a hung response open until the client or close() ends it. */
  hold(res: ServerResponse): void;
  /** A tracked timer (cleared by close()); false when the simulator is closing. */
  delay(ms: number): Promise<boolean>;
}

export function errorBody(id: string, description: string): string {
  const body: SppErrorBody = { id, description };
  return JSON.stringify(body);
}

export type Send = (status: number, body?: string, headers?: Record<string, string>) => void;
