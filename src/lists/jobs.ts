/**
 * The job-definition list, `GET /api/endeavour/job` (docs/spp-api.md#other-lists), by name by default.
 * A job that never ran has no `lastRunTime`; one without a schedule (restores) no `nextFireTime`.
 */
import type { JobFilter, JobOrder, JobOrderField } from '../__generated__/resolvers-types.js';
import type { ListDescription } from '../pagination/list.js';
import type { Page } from '../pagination/paginator.js';
import type { SppFilter, SppJob, SppSort } from '../spp-api/types.js';
import { parseJob } from '../upstream/validate.js';
import { badUserInput } from '../errors.js';
import { addIn, type TranslatedFilter } from '../translate/filter.js';
import { translateOrderOf } from '../translate/order.js';

export const JOBS: ListDescription<SppJob> = {
  name: 'jobs',
  endpoint: 'endeavour/job',
  recordsKey: 'jobs',
  id: 'id',
  sortKeys: {
    name: { nullable: false },
    status: { nullable: false },
    lastRunTime: { nullable: true },
    nextFireTime: { nullable: true },
  },
  defaultOrder: [{ property: 'name', direction: 'ASC' }],
  parse: parseJob,
};

/** What a JobConnection resolves to. */
export type JobPage = Page<SppJob>;

export function translateJobFilter(input: JobFilter | null | undefined): TranslatedFilter {
  const filter: SppFilter[] = [];
  let empty = false;
  if (!input) return { filter, empty };
  if (input.id && addIn(filter, 'id', input.id)) empty = true;
  if (input.name !== null && input.name !== undefined) {
    if (input.name.length === 0) throw badUserInput('Field "filter.name" must not be empty: expected a job name, optionally with * wildcards.', 'filter');
    // sppclient filters jobs by `name` (docs/spp-api.md#filter-and-sort); `*` globs as on session job names.
    filter.push({ property: 'name', value: input.name, op: '=' });
  }
  if (input.type && addIn(filter, 'type', input.type)) empty = true;
  if (input.subType && addIn(filter, 'subType', input.subType)) empty = true;
  return { filter, empty };
}

const ORDER_PROPERTY: Record<JobOrderField, string> = { NAME: 'name', STATUS: 'status', LAST_RUN_TIME: 'lastRunTime', NEXT_FIRE_TIME: 'nextFireTime' };

export function translateJobOrder(orderBy: readonly JobOrder[] | null | undefined): SppSort[] {
  return translateOrderOf(orderBy, ORDER_PROPERTY, [{ field: 'NAME', direction: 'ASC' }]);
}
