// Opens a page (the demo's public pipe page, for scripts/check-first-command) and waits until
// the browser app has taken it over.
import { launchBrowser, hydrated } from './tests/harness.mjs';

const url = process.argv[2];
const browser = await launchBrowser();
try {
  const page = await (await browser.newContext()).newPage();
  const response = await page.goto(url);
  if (!response.ok()) throw new Error(`${url} answered ${response.status()}`);
  await hydrated(page);
  console.log(`check-first-command: ${url} came alive in the browser`);
} finally {
  await browser.close();
}
