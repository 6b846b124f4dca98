// The main journey through the browser app, against a real server and Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Instance, launchBrowser, hydrated, signIn, shot, corpus } from './harness.mjs';

let instance;
let browser;
let base;

before(async () => {
  instance = new Instance();
  instance.addUser('root', { admin: true });
  instance.addUser('alice');
  instance.addUser('bob');
  instance.cli(['scan', corpus, '--owner', 'alice']);
  base = await instance.serve();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  instance?.stop();
});

test('share privately with approval, grant, approve, download, report', async () => {
  const alice = await (await browser.newContext()).newPage();

  // A wrong password gets one message that does not tell whether the user exists.
  await signIn(alice, base, 'alice', 'not the password');
  await alice.getByText('Wrong user name or password').waitFor();
  await signIn(alice, base, 'alice');
  await alice.waitForURL(`${base}/`);
  await alice.getByRole('link', { name: 'sqlite', exact: true }).waitFor();
  // The frame knows who signed in, without a reload.
  await alice.getByRole('button', { name: 'Sign out' }).waitFor();
  await shot(alice, 'browse');

  // Filters live in the URL, and apply as soon as they change (Apply is for no JavaScript).
  await hydrated(alice);
  await alice.getByLabel('Category').selectOption('database');
  await alice.waitForURL(/category=database/);
  await alice.getByText('1–3 of 3 pipes').waitFor();
  await shot(alice, 'browse-filtered');
  await alice.getByLabel('Category').selectOption('');
  await alice.waitForURL((url) => url.searchParams.get('category') !== 'database');
  await alice.getByText('1–3 of 3 pipes').waitFor({ state: 'detached' });

  // Share sqlite privately, asking for approval, and grant bob read access until a date.
  await alice.goto(`${base}/pipes/sqlite`);
  await hydrated(alice);
  await alice.getByLabel('Ask an admin to approve').check();
  await alice.getByRole('button', { name: 'Share', exact: true }).click();
  await alice.getByText("Waiting for an admin's approval (private)").waitFor();
  // A refused grant says why and keeps what was typed.
  await alice.getByLabel('Users').fill('nobody');
  await alice.getByLabel('Access', { exact: true }).selectOption('read');
  await alice.getByLabel('Expires (optional)').fill('2999-12-31');
  await alice.getByRole('button', { name: 'Grant' }).click();
  await alice.getByText("User 'nobody' not found").waitFor();
  assert.equal(await alice.getByLabel('Users').inputValue(), 'nobody');
  assert.equal(await alice.getByLabel('Expires (optional)').inputValue(), '2999-12-31');
  await alice.getByLabel('Users').fill('bob');
  await alice.getByRole('button', { name: 'Grant' }).click();
  await alice.getByRole('cell', { name: 'user bob' }).waitFor();
  // Both changes are in the pipe's history, from the audit log.
  await alice.getByRole('cell', { name: 'granted read to users bob until 2999-12-31' }).waitFor();
  await alice.getByRole('cell', { name: 'shared it privately, awaiting approval' }).waitFor();
  await shot(alice, 'pipe-owner');

  // Until approved, bob cannot see it.
  const bob = await (await browser.newContext({ acceptDownloads: true })).newPage();
  await signIn(bob, base, 'bob');
  await bob.waitForURL(`${base}/`);
  const hidden = await bob.goto(`${base}/pipes/sqlite`);
  assert.equal(hidden.status(), 404);

  // The admin approves it from the queue.
  const root = await (await browser.newContext()).newPage();
  await signIn(root, base, 'root');
  await root.waitForURL(`${base}/`);
  await root.goto(`${base}/admin/approvals`);
  await hydrated(root);
  const row = root.locator('tr[data-pipe="sqlite"]');
  await shot(root, 'approvals');
  await row.getByRole('button', { name: 'Approve' }).click();
  await row.waitFor({ state: 'detached' });
  // The audit log has every change, with who made it.
  await root.goto(`${base}/admin/audit`);
  const approved = root.getByRole('row').filter({ hasText: 'approved the share' });
  await approved.getByRole('cell', { name: 'root', exact: true }).waitFor();
  await root.getByRole('row').filter({ hasText: 'granted read to users bob' }).getByRole('cell', { name: 'alice', exact: true }).waitFor();
  await shot(root, 'audit-log');

  // bob downloads it; the count goes up.
  await bob.goto(`${base}/pipes/sqlite`);
  await hydrated(bob);
  assert.equal(await bob.locator('.downloads').textContent(), '0');
  const [download] = await Promise.all([bob.waitForEvent('download'), bob.getByRole('link', { name: 'Download manifest' }).click()]);
  assert.match(download.suggestedFilename(), /^sqlite-1\.0\.0\.yaml$/);
  await bob.reload();
  assert.equal(await bob.locator('.downloads').textContent(), '1');

  // An anonymous visitor gets 404 for the private pipe, and the page of a public one.
  const visitor = await (await browser.newContext()).newPage();
  assert.equal((await visitor.goto(`${base}/pipes/sqlite`)).status(), 404);
  // Pages for signed-in users send the visitor to the sign-in page.
  await visitor.goto(`${base}/reports`);
  assert.equal(new URL(visitor.url()).pathname + new URL(visitor.url()).search, '/login?next=%2Freports');
  await alice.goto(`${base}/pipes/factory`);
  await hydrated(alice);
  await alice.getByLabel('Public: anyone with the link can see and download it').check();
  await alice.getByRole('button', { name: 'Share', exact: true }).click();
  await alice.getByText('Shared (public)').waitFor();
  const open = await visitor.goto(`${base}/pipes/factory`);
  assert.equal(open.status(), 200);
  await visitor.getByRole('heading', { name: 'factory' }).waitFor();
  await shot(visitor, 'public-pipe');

  // The report shows the download.
  await alice.goto(`${base}/reports`);
  await alice.locator('.downloads-total').waitFor();
  assert.equal((await alice.locator('.downloads-total').textContent()).trim(), '1');
  await shot(alice, 'reports');
});

test('pages render on the server for reading without JavaScript', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const login = await page.goto(`${base}/login`);
  assert.equal(login.status(), 200);
  await page.getByLabel('User name').fill('alice');
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/`);
  await page.getByRole('link', { name: 'database_adapter', exact: true }).waitFor();
  const missing = await page.goto(`${base}/no/such/page`);
  assert.equal(missing.status(), 404);
  await page.getByRole('heading', { name: 'Not found' }).waitFor();
  await context.close();
});
