/**
 * bench/RESULTS.md holds one section per benchmark (`npm run bench`, `bench:live`,
 * `bench:replicas`, the soak's figures), each between `<!-- NAME:start ... -->` and
 * `<!-- NAME:end -->`. A benchmark rewrites only its own section, so running one never erases
 * another's figures; a section not yet in the file is added at the end.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export const RESULTS_FILE = new URL('./RESULTS.md', import.meta.url);

/** Replaces the section `name` of RESULTS.md with `body` (its text without the markers). */
export function writeResultsSection(name: string, writtenBy: string, body: string): void {
  const section = `<!-- ${name}:start (written by ${writtenBy}) -->\n${body.trim()}\n<!-- ${name}:end -->\n`;
  let current = '';
  try {
    current = readFileSync(RESULTS_FILE, 'utf8');
  } catch {
    // No file yet: the section is the whole file.
  }
  const start = current.indexOf(`<!-- ${name}:start`);
  const endMarker = `<!-- ${name}:end -->`;
  const end = current.indexOf(endMarker);
  const next =
    start >= 0 && end > start
      ? `${current.slice(0, start)}${section}${current.slice(end + endMarker.length).replace(/^\n/, '')}`
      : `${current.trimEnd()}${current ? '\n\n' : ''}${section}`;
  writeFileSync(RESULTS_FILE, next);
}
