// Shared by the browser tests: headless Chromium as every test launches it, and a watch on every
// page it opens. A console error, an uncaught exception, a failed request or an HTTP error
// response on any page fails the test (Chromium reports a missing /favicon.ico as a console
// error: "Failed to load resource: ... 404"), unless the test said that page expects exactly it
// (or allows it, where a race decides whether it comes).
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

// Chromium asks for /favicon.ico just after a page has loaded, outside the page's own requests:
// the check waits this long after the last load for what it may report.
const SETTLE_MS = 500;

/** Launches /usr/bin/chromium headless, quiet on the network, with `extraArgs` added. */
export async function launchBrowser(extraArgs = []) {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           ...extraArgs],
  });
  return new WatchedBrowser(browser);
}

class WatchedBrowser {
  constructor(browser) {
    this.browser = browser;
    this.pages = [];
  }

  /**
   * A new page whose problems are recorded. `expectedErrors` (RegExps) are problems the test
   * provokes on purpose: each must be seen at least once, and nothing else may be.
   * `allowedErrors` (RegExps) are problems that may come or not, by a race the test does not
   * control (a request a client aborts as it closes, which may have ended already).
   */
  async newPage({ expectedErrors = [], allowedErrors = [] } = {}) {
    const page = await this.browser.newPage();
    const watched = { page, problems: [], expectedErrors, allowedErrors, lastLoad: Date.now() };
    const add = (text) => watched.problems.push(text);
    page.on('load', () => { watched.lastLoad = Date.now(); });
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const where = message.location()?.url;
      add(`console error: ${message.text()}${where ? ` (${where})` : ''}`);
    });
    page.on('pageerror', (error) => add(`uncaught exception: ${error.message}`));
    page.on('requestfailed', (request) =>
      add(`request failed: ${request.url()} (${request.failure()?.errorText})`));
    page.on('response', (response) => {
      if (response.status() >= 400) add(`HTTP ${response.status()}: ${response.url()}`);
    });
    this.pages.push(watched);
    return page;
  }

  /** Fails unless every page opened so far saw nothing but its expected errors. */
  async assertNoPageErrors() {
    const latest = Math.max(0, ...this.pages.map((p) => p.lastLoad));
    const wait = latest + SETTLE_MS - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    this.pages.forEach(({ page, problems, expectedErrors, allowedErrors }, i) => {
      const label = `page ${i + 1} (last at ${page.isClosed() ? 'a closed page' : page.url()})`;
      const unexpected = problems.filter((p) =>
        ![...expectedErrors, ...allowedErrors].some((re) => re.test(p)));
      assert.deepEqual(unexpected, [], `${label}: unexpected errors`);
      for (const re of expectedErrors) {
        assert.ok(problems.some((p) => re.test(p)), `${label}: expected an error matching ${re}`);
      }
    });
  }

  close() {
    return this.browser.close();
  }
}
