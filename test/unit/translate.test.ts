import { describe, expect, it } from 'vitest';
import { translateFilter } from '../../src/translate/filter.js';
import { translateOrder } from '../../src/translate/order.js';

describe('translateFilter', () => {
  it('returns no upstream filter when no filter is given', () => {
    expect(translateFilter(undefined)).toEqual({ filter: [], empty: false });
    expect(translateFilter({})).toEqual({ filter: [], empty: false });
  });

  it('turns every field into one upstream filter object, lists as IN, ranges as comparison ops on epoch ms', () => {
    const result = translateFilter({
      status: ['RUNNING', 'FAILED'],
      jobId: ['1003'],
      jobName: 'vmware_*',
      type: ['protection'],
      subType: ['vmware'],
      serviceId: ['serviceprovider.protection.hypervisor'],
      subPolicyType: ['BACKUP'],
      start: { gt: 1, gte: 2, lt: 3, lte: 4 },
      hasCatalog: true,
    });
    expect(result).toEqual({
      empty: false,
      filter: [
        { property: 'status', value: ['RUNNING', 'FAILED'], op: 'IN' },
        { property: 'jobId', value: ['1003'], op: 'IN' },
        { property: 'jobName', value: 'vmware_*', op: '=' },
        { property: 'type', value: ['protection'], op: 'IN' },
        { property: 'subType', value: ['vmware'], op: 'IN' },
        { property: 'serviceId', value: ['serviceprovider.protection.hypervisor'], op: 'IN' },
        { property: 'subPolicyType', value: ['BACKUP'], op: 'IN' },
        { property: 'start', value: 1, op: '>' },
        { property: 'start', value: 2, op: '>=' },
        { property: 'start', value: 3, op: '<' },
        { property: 'start', value: 4, op: '<=' },
        { property: 'hasCatalog', value: 'true', op: '=' },
      ],
    });
  });

  it('asks for both spellings when filtering CANCELED', () => {
    expect(translateFilter({ status: ['CANCELED', 'FAILED'] }).filter).toEqual([{ property: 'status', value: ['CANCELED', 'CANCELLED', 'FAILED'], op: 'IN' }]);
  });

  it('marks an empty list as matching nothing, so no upstream call is needed', () => {
    expect(translateFilter({ status: [] }).empty).toBe(true);
    expect(translateFilter({ type: ['catalog'] }).empty).toBe(false);
  });

  it('rejects an empty job name with BAD_USER_INPUT', () => {
    expect(() => translateFilter({ jobName: '' })).toThrow(/filter.jobName/);
  });
});

describe('translateOrder', () => {
  it('defaults to newest first with the id as tie-breaker', () => {
    expect(translateOrder(undefined)).toEqual([
      { property: 'start', direction: 'DESC' },
      { property: 'id', direction: 'DESC' },
    ]);
    expect(translateOrder([])).toEqual(translateOrder(undefined));
  });

  it('keeps the given keys in order and appends the id in the last key direction', () => {
    expect(
      translateOrder([
        { field: 'STATUS', direction: 'ASC' },
        { field: 'DURATION', direction: 'DESC' },
      ]),
    ).toEqual([
      { property: 'status', direction: 'ASC' },
      { property: 'duration', direction: 'DESC' },
      { property: 'id', direction: 'DESC' },
    ]);
    expect(translateOrder([{ field: 'JOB_NAME' }, { field: 'TYPE', direction: 'ASC' }, { field: 'END', direction: 'ASC' }]).map((s) => s.property)).toEqual([
      'jobName',
      'type',
      'end',
      'id',
    ]);
  });

  it('rejects a field named twice', () => {
    expect(() =>
      translateOrder([
        { field: 'START', direction: 'ASC' },
        { field: 'START', direction: 'DESC' },
      ]),
    ).toThrow(/START more than once/);
  });
});

describe('statusOf', () => {
  it('maps SPP status strings to the enum: CANCELLED as CANCELED, anything unknown as UNKNOWN', async () => {
    const { statusOf } = await import('../../src/resolvers/JobSession.js');
    expect(statusOf('COMPLETED')).toBe('COMPLETED');
    expect(statusOf('ABORTED')).toBe('ABORTED');
    expect(statusOf('CANCELLED')).toBe('CANCELED');
    expect(statusOf('cancelled')).toBe('CANCELED');
    expect(statusOf('RESOURCE ACTIVE')).toBe('UNKNOWN');
    expect(statusOf(null)).toBe('UNKNOWN');
  });
});
