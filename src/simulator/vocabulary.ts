/** SPP's status and sub-policy vocabulary as the simulator shows it (spp-api.md §2.4). */

export const ACTIVE_STATUSES: ReadonlySet<string> = new Set(['RUNNING', 'PENDING', 'WAITING']);

const STATUS_DISPLAY: Readonly<Record<string, string>> = {
  RUNNING: 'Running',
  PENDING: 'Pending',
  WAITING: 'Waiting',
  HELD: 'Held',
  COMPLETED: 'Completed',
  PARTIAL: 'Partial',
  FAILED: 'Failed',
  CANCELED: 'Canceled',
  CANCELLED: 'Cancelled',
  ABORTED: 'Aborted',
  STOPPED: 'Stopped',
};

export function statusDisplayName(status: string): string {
  return STATUS_DISPLAY[status] ?? status.charAt(0) + status.slice(1).toLowerCase();
}

/** Mostly successful history; CANCELED is the doc spelling (the UI's CANCELLED is a quirk). */
export const FINISHED_STATUS_WEIGHTS: ReadonlyArray<readonly [string, number]> = [
  ['COMPLETED', 800],
  ['PARTIAL', 80],
  ['FAILED', 70],
  ['CANCELED', 20],
  ['ABORTED', 15],
  ['STOPPED', 15],
];

export const SUB_POLICY_DISPLAY: Readonly<Record<string, string>> = {
  BACKUP: 'Backup',
  REPLICATION: 'Replication',
  SPPOFFLOAD: 'Offload',
  SPPARCHIVE: 'Archive',
};
