/**
 * The system's Chromium for the browser tests (puppeteer-core downloads nothing): CHROMIUM_PATH,
 * else the first of chromium, chromium-browser, google-chrome on PATH. When none is found the
 * tests skip, and say so loudly; .ci/run installs Chromium (apt-get install chromium) first.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';

export function findChromium(): string | undefined {
  const given = process.env.CHROMIUM_PATH;
  if (given && existsSync(given)) return given;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('which', [name], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      // not this one
    }
  }
  return undefined;
}

export const chromium = findChromium();
if (!chromium) {
  console.warn('skipped: test/browser needs Chromium (apt-get install chromium, or CHROMIUM_PATH); none was found');
}

export const launchChromium = (): Promise<Browser> =>
  puppeteer.launch({ executablePath: chromium!, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
