/**
 * How upstream requests are named in metrics and logs: low-cardinality endpoint names, outcomes,
 * and secret-free summaries of failures (no bodies, headers, query strings or session ids).
 */
import { HTTPError, RequestError } from 'got';

/** A low-cardinality name of the SPP endpoint: ids are not labels. */
export function endpointOf(url: string | URL | undefined): string {
  const path = url instanceof URL ? url.pathname : String(url ?? '');
  if (/jobsession\/stats/.test(path)) return 'jobsession/stats';
  if (/log\/job/.test(path)) return 'log/job';
  if (/endeavour\/job\/[^/?]+/.test(path)) return 'job/{id}';
  if (/endeavour\/job(\?|$)/.test(path)) return 'job';
  return /jobsession\/[^/?]+/.test(path) ? 'jobsession/{id}' : /jobsession/.test(path) ? 'jobsession' : /session/.test(path) ? 'session' : 'other';
}

export function outcomeOf(error: unknown): string {
  if (error instanceof HTTPError) return String(error.response.statusCode);
  if (error instanceof RequestError) return error.code ?? error.name;
  return 'invalid';
}

/** A loggable, secret-free summary of an upstream failure: no bodies, no headers, no query strings. */
export function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof RequestError) {
    const url = error.options?.url;
    return {
      name: error.name,
      code: error.code,
      status: error.response?.statusCode,
      method: error.options?.method,
      path: url instanceof URL ? url.pathname : undefined,
    };
  }
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { error: String(error) };
}
