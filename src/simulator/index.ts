/**
 * IBM Spectrum Protect Plus job-session REST simulator: the embedded default upstream of
 * `npm start`, the upstream of integration tests and benchmarks, and a standalone tool
 * (`npm run simulator`). Behaviour follows shared/upstream/spp-api.md, quirks included.
 */
export type { FaultRates, SimFault, SimRequestLogEntry, Simulator, SimulatorOptions, SimulatorQuirks, SimulatorUser } from './types.js';
export { startSimulator, DEFAULT_SEED, DEFAULT_SIZE, DEFAULT_MAX_PAGE_SIZE, DEFAULT_HOST } from './server.js';
export { optionsFromEnv, SimulatorConfigError, USAGE, CLI_DEFAULT_PORT, CLI_DEFAULT_HOST } from './options.js';
export { DEFAULT_USERS, DEFAULT_SESSION_IDLE_MS } from './auth.js';
export { IBM_SAMPLE_SESSION_ID } from './generator.js';
export { RECORD_HREF_BASE } from './catalog.js';
export { SPP_VERSION } from './http.js';
