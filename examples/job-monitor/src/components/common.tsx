import { CombinedGraphQLErrors, ServerError } from '@apollo/client';
import type { JobSessionStatus } from '../gql/graphql';

/** Status as text and colour (the colour never carries the meaning alone). */
const TONE: Partial<Record<JobSessionStatus, string>> = {
  RUNNING: 'info',
  PENDING: 'info',
  WAITING: 'info',
  HELD: 'info',
  CANCELING: 'warn',
  COMPLETED: 'ok',
  PARTIAL: 'warn',
  FAILED: 'bad',
  ABORTED: 'bad',
  CANCELED: 'muted',
  STOPPED: 'muted',
};
const SYMBOL: Record<string, string> = { info: '●', warn: '▲', ok: '✓', bad: '✕', muted: '■' };

export function StatusBadge({ status }: { status: JobSessionStatus }) {
  const tone = TONE[status] ?? 'muted';
  return (
    <span className={`status status-${tone}`} data-status={status}>
      <span aria-hidden="true">{SYMBOL[tone]} </span>
      {status.charAt(0) + status.slice(1).toLowerCase()}
    </span>
  );
}

export function Progress({ percent, label }: { percent: number | null | undefined; label: string }) {
  const value = Math.max(0, Math.min(100, Math.round(percent ?? 0)));
  return (
    <span className="progress">
      <progress max={100} value={value} aria-label={label} />
      <span className="percent">{value} %</span>
    </span>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p role="status" className="loading">
      Loading {what}…
    </p>
  );
}

/** The gateway's own words: each error's message and `extensions.code`. */
export function ErrorMessage({ error, what, verb = 'load' }: { error: unknown; what: string; verb?: string }) {
  const lines = CombinedGraphQLErrors.is(error)
    ? error.errors.map((e) => ({ message: e.message, code: typeof e.extensions?.code === 'string' ? e.extensions.code : undefined }))
    : ServerError.is(error)
      ? [{ message: serverMessage(error), code: `HTTP ${error.statusCode}` }]
      : [{ message: error instanceof Error ? error.message : String(error), code: undefined }];
  return (
    <div role="alert" className="error">
      <strong>
        Could not {verb} {what}.
      </strong>
      <ul>
        {lines.map((line, i) => (
          <li key={i}>
            {line.message}
            {line.code ? <code> {line.code}</code> : null}
          </li>
        ))}
      </ul>
    </div>
  );
}

function serverMessage(error: ServerError): string {
  try {
    const body = JSON.parse(error.bodyText) as { errors?: Array<{ message?: string }> };
    const message = body.errors
      ?.map((e) => e.message)
      .filter(Boolean)
      .join('; ');
    if (message) return message;
  } catch {
    // not JSON
  }
  return error.message;
}

const dateTime = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'medium', timeZone: 'UTC' });
export const formatTime = (iso: string | null | undefined) => (iso ? `${dateTime.format(new Date(iso))} UTC` : '—');

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${s % 60} s` : `${s} s`;
}

let counter = 0;
/** A clientMutationId per click: the gateway acts once for a repeated submission of the same id. */
export const newMutationId = (action: string) => `${action}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
