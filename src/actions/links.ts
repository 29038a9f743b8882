/**
 * What SPP advertises: the `rel: "action"` links of a record (docs/spp-api.md#the-session-record and #acting-on-jobs). SPP offers
 * an action only when the object's state and the user's role allow it, so the links are what a
 * UI's buttons follow, and what a mutation checks before it asks SPP anything else.
 */
import type { JobAction } from '../__generated__/resolvers-types.js';
import type { SppLink, SppLinks } from '../spp-api/types.js';

/** SPP's link names of the actions this gateway performs. */
export const ACTION_LINKS: Readonly<Record<JobAction, string>> = { START: 'start', CANCEL: 'cancel', RERUN: 'rerun', EXPIRE: 'expire' };
const BY_LINK = new Map(Object.entries(ACTION_LINKS).map(([action, name]) => [name, action as JobAction]));

/** The actions a record advertises now, in a stable order. Links of actions this gateway does not perform are left out. */
export function availableActions(links: SppLinks | null | undefined): JobAction[] {
  const out: JobAction[] = [];
  for (const [name, link] of Object.entries(links ?? {})) {
    const action = BY_LINK.get(name);
    if (action && link?.rel === 'action' && typeof link.href === 'string') out.push(action);
  }
  return out.sort();
}

export function actionLink(links: SppLinks | null | undefined, action: JobAction): SppLink | undefined {
  const link = links?.[ACTION_LINKS[action]];
  return link?.rel === 'action' && typeof link.href === 'string' ? link : undefined;
}

/**
 * The path and query under /api of an SPP href (absolute, with SPP's own host name, e.g.
 * `https://spp:443/api/endeavour/jobsession/1?action=cancel`). Only the path is taken: the
 * request goes to SPP_URL, never to a host a record names. Undefined for anything not under /api/endeavour/.
 */
export function apiPathOf(href: string): string | undefined {
  let url: URL;
  try {
    url = new URL(href, 'https://spp.invalid');
  } catch {
    return undefined;
  }
  if (!url.pathname.startsWith('/api/endeavour/')) return undefined;
  return `${url.pathname.slice('/api/'.length)}${url.search}`;
}
