/**
 * Headless Chromium for the browser tests: Debian's chromium driven by playwright-core, with
 * everything that phones home switched off so "no network request" assertions mean something.
 */
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.PATCHWAVE_CHROMIUM ?? '/usr/bin/chromium';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

export async function withBrowser<T>(body: (browser: Browser) => Promise<T>): Promise<T> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS });
  try {
    return await body(browser);
  } finally {
    await browser.close();
  }
}
