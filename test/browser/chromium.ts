/**
 * The system's Chromium for the browser tests (puppeteer-core downloads nothing): CHROMIUM_PATH,
 * else the first of chromium, chromium-browser, google-chrome on PATH. When none is found the
 * tests skip, and say so loudly; .ci/run installs Chromium (apt-get install chromium) first.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

// Page functions run in the browser; the test project's types are Node's.
declare const document: any;

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

/**
 * Scrolls the job-monitor's History to its end, at most `rounds` more pages (each awaited), with
 * `beforeEach` run before each (a test that changes SPP meanwhile): every page is then on screen.
 */
export async function scrollHistoryToEnd(
  page: Page,
  wait: { timeout: number; polling: number },
  { rounds = 30, beforeEach }: { rounds?: number; beforeEach?: () => void } = {},
): Promise<void> {
  for (let round = 0; round < rounds && !(await page.$('[data-testid="history-complete"]')); round++) {
    const shown = (await page.$$('[data-testid="history-table"] tbody tr')).length;
    beforeEach?.();
    await page.$eval('[data-testid="history-end"]', (end) => end.scrollIntoView());
    await page.waitForFunction(
      (n: number) =>
        document.querySelectorAll('[data-testid="history-table"] tbody tr').length > n || !!document.querySelector('[data-testid="history-complete"]'),
      wait,
      shown,
    );
  }
  await page.waitForSelector('[data-testid="history-complete"]', wait);
}
