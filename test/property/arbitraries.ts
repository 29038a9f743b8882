/**
 * Generators shared by the property tests (and usable by the fuzz tests): SPP job-session
 * lists with the shapes that break paging (ties in every sort key, nulls on running
 * sessions, duplicate start times), GraphQL filters and orders, SPP's quirks, and walks.
 *
 * They produce values of the public surfaces only (GraphQL inputs, SPP records), so they
 * keep working when the engine's internals change (issue 8's read strategy, issue 10's
 * generic lists).
 */
import fc from 'fast-check';
import type { JobSessionFilter, JobSessionOrder, JobSessionOrderField, JobSessionStatus } from '../../src/__generated__/resolvers-types.js';
import type { SppJobSession } from '../../src/spp-api/types.js';

/** How many runs a property gets: bounded in `npm test`, many more in `npm run test:deep`. */
export function runs(normal: number): number {
  const deep = Number(process.env.PROPERTY_RUNS_FACTOR ?? '');
  return Number.isFinite(deep) && deep > 0 ? Math.round(normal * deep) : normal;
}

export const STATUSES: readonly JobSessionStatus[] = ['COMPLETED', 'FAILED', 'PARTIAL', 'RUNNING', 'CANCELED', 'ABORTED', 'PENDING'];
/** What SPP may store: CANCELLED is the UI/stats spelling of CANCELED (docs/spp-api.md#the-session-record). */
const UPSTREAM_STATUSES = [...STATUSES, 'CANCELLED'] as const;
export const JOB_NAMES = ['vmware_gold', 'vmware_silver', 'Maintenance', 'catalog*', 'sql_hourly', '2024', '9', '10_daily', 'Sauvegarde_été'] as const;
export const TYPES = ['protection', 'catalog', 'maintenance'] as const;
export const SUB_TYPES = ['vmware', 'hyperv', 'sql'] as const;
export const SERVICE_IDS = ['serviceprovider.protection.hypervisor', 'serviceprovider.maintenance'] as const;
export const SUB_POLICY_TYPES = ['BACKUP', 'REPLICATION', 'SPPOFFLOAD'] as const;
export const JOB_IDS = ['1001', '1002', '1003', '1010'] as const;
export const ORDER_FIELDS: readonly JobSessionOrderField[] = ['START', 'END', 'DURATION', 'JOB_NAME', 'STATUS', 'TYPE'];

/** Few distinct start times, so ties (several sessions in one millisecond) are the rule. */
const T0 = 1_760_000_000_000;
const startArb = fc.integer({ min: 0, max: 12 }).map((i) => T0 + i * 1000);

/** A session without its id (ids are assigned by the list, unique). */
export type SessionFields = Omit<SppJobSession, 'id'>;

export const sessionFieldsArb: fc.Arbitrary<SessionFields> = fc
  .record({
    start: startArb,
    // null while running; a few distinct durations so END and DURATION tie too.
    duration: fc.option(fc.constantFrom(0, 1000, 5000, 60_000), { nil: null, freq: 4 }),
    jobName: fc.constantFrom(...JOB_NAMES),
    jobId: fc.constantFrom(...JOB_IDS),
    status: fc.constantFrom(...UPSTREAM_STATUSES),
    type: fc.constantFrom(...TYPES),
    subType: fc.option(fc.constantFrom(...SUB_TYPES), { nil: null, freq: 5 }),
    serviceId: fc.constantFrom(...SERVICE_IDS),
    subPolicyType: fc.option(fc.constantFrom(...SUB_POLICY_TYPES), { nil: null, freq: 5 }),
    hasCatalog: fc.boolean(),
  })
  .map(({ duration, ...rest }) => ({ ...rest, duration, end: duration === null ? null : rest.start + duration }));

/** Ids as SPP writes them: 13-digit numbers as strings, not in start order. */
export function idFor(n: number): string {
  return String(1_700_000_000_000 + ((n * 7919) % 100_003));
}

export const listArb = (maxLength = 40): fc.Arbitrary<SppJobSession[]> =>
  fc.array(sessionFieldsArb, { maxLength }).map((fields) => fields.map((f, i) => ({ ...f, id: idFor(i) }) as SppJobSession));

const listOf = <T>(values: readonly T[]) => fc.uniqueArray(fc.constantFrom(...values), { minLength: 0, maxLength: values.length });
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });

/** A GraphQL `JobSessionFilter`, from none to every field, empty lists included. */
export const filterArb: fc.Arbitrary<JobSessionFilter | undefined> = fc.option(
  fc
    .record(
      {
        status: optional(listOf(STATUSES)),
        jobId: optional(listOf(JOB_IDS)),
        jobName: optional(fc.constantFrom('vmware_*', '*', 'Maintenance', 'catalog*', '*_*', 'sql_hourly', 'nomatch')),
        type: optional(listOf(TYPES)),
        subType: optional(listOf(SUB_TYPES)),
        serviceId: optional(listOf(SERVICE_IDS)),
        subPolicyType: optional(listOf(SUB_POLICY_TYPES)),
        start: optional(fc.record({ gt: optional(startArb), gte: optional(startArb), lt: optional(startArb), lte: optional(startArb) }, { requiredKeys: [] })),
        hasCatalog: optional(fc.boolean()),
      },
      { requiredKeys: [] },
    )
    // Mostly one or two criteria: a filter of nine rarely matches anything.
    .map((f) => Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined)) as JobSessionFilter),
  { nil: undefined, freq: 3 },
);

/** A GraphQL `orderBy`: none (the default) or up to three distinct fields with directions. */
export const orderArb: fc.Arbitrary<JobSessionOrder[] | undefined> = fc.option(
  fc
    .uniqueArray(fc.constantFrom(...ORDER_FIELDS), { minLength: 1, maxLength: 3 })
    .chain((fields) => fc.tuple(...fields.map((field) => fc.constantFrom<'ASC' | 'DESC'>('ASC', 'DESC').map((direction) => ({ field, direction }))))),
  { nil: undefined, freq: 4 },
);

/** SPP's known misbehaviours, in any combination (docs/spp-api.md#quirks-the-gateway-handles). */
export interface Quirks {
  /** `total` is 0 whatever the list holds (APAR IT45897). */
  totalZero: boolean;
  /** `pageSize` is ignored: every answer holds up to 100 records. */
  ignorePageSize: boolean;
  /** The server's own page maximum, below what the gateway asks. */
  serverMax: number | undefined;
  /** Answers are cut short at random (never to nothing while records remain). */
  shortAnswers: boolean;
}

export const quirksArb: fc.Arbitrary<Quirks> = fc.record({
  totalZero: fc.boolean(),
  ignorePageSize: fc.boolean(),
  serverMax: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
  shortAnswers: fc.boolean(),
});

/** The gateway's reading settings: upstream page cap and fan-out. */
export const readerArb = fc.record({ pageSizeCap: fc.integer({ min: 1, max: 120 }), concurrency: fc.integer({ min: 1, max: 4 }) });

/** A change to the list between two pages: new sessions arrive, old ones expire. */
export interface Mutation {
  insert: SessionFields[];
  /** Indices (modulo the list's length) of sessions to remove. */
  expire: number[];
}

export const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  insert: fc.array(sessionFieldsArb, { maxLength: 3 }),
  expire: fc.array(fc.nat(), { maxLength: 3 }),
});

/** One step of a walk through a connection. */
export type Step =
  | { kind: 'first'; size: number }
  | { kind: 'last'; size: number }
  | { kind: 'next'; size: number }
  | { kind: 'previous'; size: number }
  | { kind: 'between'; size: number; direction: 'forward' | 'backward' }
  | { kind: 'mutate'; mutation: Mutation };

const sizeArb = fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 6, arbitrary: fc.integer({ min: 1, max: 12 }) });

export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 2, arbitrary: sizeArb.map((size) => ({ kind: 'first' as const, size })) },
  { weight: 2, arbitrary: sizeArb.map((size) => ({ kind: 'last' as const, size })) },
  { weight: 5, arbitrary: sizeArb.map((size) => ({ kind: 'next' as const, size })) },
  { weight: 4, arbitrary: sizeArb.map((size) => ({ kind: 'previous' as const, size })) },
  {
    weight: 1,
    arbitrary: fc
      .record({ size: sizeArb, direction: fc.constantFrom<'forward' | 'backward'>('forward', 'backward') })
      .map((s) => ({ kind: 'between' as const, ...s })),
  },
  { weight: 3, arbitrary: mutationArb.map((mutation) => ({ kind: 'mutate' as const, mutation })) },
);
