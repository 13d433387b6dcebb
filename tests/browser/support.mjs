// Shared by the browser tests: headless Chromium as every test launches it.
import { chromium } from 'playwright-core';

/** Launches /usr/bin/chromium headless, quiet on the network, with `extraArgs` added. */
export function launchBrowser(extraArgs = []) {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           ...extraArgs],
  });
}
