import { textOf } from './scalars.js';
import type { PolicyOptionResolvers, PolicySnapshotResolvers, PolicySourceResolvers, PolicySpecResolvers } from '../__generated__/resolvers-types.js';

const str = textOf;

export const PolicySnapshot: PolicySnapshotResolvers = {
  id: (p) => String(p.id),
  version: (p) => str(p.version),
  script: (p) => p.script ?? null,
  spec: (p) => (p.spec && typeof p.spec === 'object' ? p.spec : null),
  specRaw: (p) => p.spec ?? null,
};

export const PolicySpec: PolicySpecResolvers = {
  source: (spec) => (Array.isArray(spec.source) ? spec.source : []),
  option: (spec) => (spec.option && typeof spec.option === 'object' ? spec.option : null),
  notification: (spec) => spec.notification ?? null,
  // SPP spells it `applicationtype` (IBM's sample record).
  applicationType: (spec) => str(spec.applicationtype),
};

export const PolicySource: PolicySourceResolvers = {
  id: (source) => str(source.id),
};

export const PolicyOption: PolicyOptionResolvers = {
  // SPP sends retention as a string ("3") on some builds and a number on others.
  retention: (option) => str(option.retention),
  maxTasks: (option) => (typeof option.maxtasks === 'number' ? option.maxtasks : null),
};
