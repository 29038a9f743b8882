import { textOf } from './scalars.js';
import type { JobLogEntryResolvers } from '../__generated__/resolvers-types.js';
import type { SppJobLogEntry } from '../spp-api/types.js';
import { toGlobalId } from './global-id.js';
import { logTypeOf } from '../lists/job-log.js';

const text = textOf;

export const JobLogEntry: JobLogEntryResolvers = {
  id: (e, _args, context) => toGlobalId('JobLogEntry', `${e.jobsessionId}.${e.id}`, context.multiServer ? context.serverOf(e) : undefined),
  entryId: (e) => e.id,
  sessionId: (e) => e.jobsessionId,
  type: (e) => logTypeOf(e.type),
  typeRaw: (e) => e.type,
  category: (e) => text(e.category),
  modName: (e) => text(e.modName),
  message: (e) => text(e.message),
  messageId: (e) => text(e.messageId),
  messageParams: (e) => (Array.isArray(e.messageParams) ? e.messageParams.map(String) : []),
  detail: (e) => text(e.detail),
  taskId: (e) => text(e.jobsessionTaskId),
  threadId: (e) => text(e.threadId),
  raw: (e: SppJobLogEntry) => e,
};
