// The people side in the browser: a gated pipe seen by a visitor, access asked for on its
// page, decided from the inbox with a note, and the pipe's Access panel saying who can reach
// it and why.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Instance, launchBrowser, hydrated, signIn, shot } from './harness.mjs';

let instance;
let browser;
let base;

before(async () => {
  instance = new Instance();
  instance.addUser('alice');
  instance.addUser('bob');
  instance.addUser('root', { admin: true });
  const folder = path.join(instance.dir, 'tree', 'gp', '1.0.0');
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, 'plug.yaml'), 'name: gp\nversion: 1.0.0\ncategory: tools\ndescription: Gathers reports\n');
  instance.cli(['scan', path.join(instance.dir, 'tree'), '--owner', 'alice']);
  // Webhooks may reach this test's receiver on loopback; the worker looks often.
  instance.env.PIPESHARE_WEBHOOK_ALLOW_PRIVATE = 'true';
  instance.env.PIPESHARE_WEBHOOK_POLL_MS = '100';
  base = await instance.serve();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  instance?.stop();
});

test('a gated pipe: seen by anyone, asked for, decided in the inbox', async () => {
  // alice shares it gated.
  const alice = await (await browser.newContext()).newPage();
  await signIn(alice, base, 'alice');
  await alice.waitForURL(`${base}/`);
  await alice.goto(`${base}/pipes/gp`);
  await hydrated(alice);
  await alice.getByLabel('Gated: anyone sees its page').check();
  await alice.getByRole('button', { name: 'Share' }).click();
  await alice.getByText('Shared (gated)').waitFor();

  // A visitor reads about it, but gets no download.
  const visitor = await (await browser.newContext()).newPage();
  const response = await visitor.goto(`${base}/pipes/gp`);
  assert.equal(response.status(), 200);
  await visitor.getByText('Gathers reports').waitFor();
  await visitor.getByText('This pipe is gated').waitFor();
  assert.equal(await visitor.getByText('Download manifest').count(), 0);
  assert.equal((await visitor.request.get(`${base}/pipes/gp/download`)).status(), 403);

  // bob asks for access on the page.
  const bob = await (await browser.newContext()).newPage();
  await signIn(bob, base, 'bob');
  await bob.waitForURL(`${base}/`);
  await bob.goto(`${base}/pipes/gp`);
  await hydrated(bob);
  await bob.getByLabel('Why do you need it?').fill('Our weekly summary reads it');
  await bob.getByLabel('For how many days').fill('30');
  await bob.getByRole('button', { name: 'Send request' }).click();
  await bob.getByText('You asked for read access').first().waitFor();
  await shot(bob, 'gated-pipe');

  // alice's header counts it; she approves it from the inbox with a note.
  await alice.goto(`${base}/inbox`);
  await hydrated(alice);
  await alice.getByLabel('1 waiting').waitFor();
  await alice.getByText('bob asks for read access for 30 days to gp').waitFor();
  await alice.getByRole('checkbox', { name: /Tick bob asks/ }).check();
  await alice.getByLabel('Note for the ticked items').fill('welcome');
  await alice.getByRole('button', { name: 'Approve ticked' }).click();
  await alice.getByText(/^Approved access_request/).waitFor();
  await alice.getByText('Nothing waits on you.').waitFor();
  await shot(alice, 'inbox');

  // The Access panel says why bob can reach it now.
  await alice.goto(`${base}/pipes/gp`);
  const row = alice.locator('table.access tr', { hasText: 'bob' });
  await row.getByText('read grant by alice').waitFor();

  // bob sees the outcome, and may download.
  await bob.reload();
  await bob.getByText('Approved: read access until').waitFor();
  await bob.getByText('Download manifest').waitFor();
  assert.equal((await bob.request.get(`${base}/pipes/gp/download`)).status(), 200);
});

test('webhooks and renewals on the pipe page', async () => {
  const received = [];
  const receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: JSON.parse(body) });
      response.writeHead(204).end();
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hook = `http://127.0.0.1:${receiver.address().port}/hook`;
  try {
    const alice = await (await browser.newContext()).newPage();
    await signIn(alice, base, 'alice');
    await alice.waitForURL(`${base}/`);
    await alice.goto(`${base}/pipes/gp`);
    await hydrated(alice);

    // Subscribe: the secret is shown once; a ping arrives, signed, and is listed.
    await alice.getByLabel('Payload URL').fill(hook);
    await alice.getByRole('button', { name: 'Add webhook' }).click();
    const secret = await alice.locator('code.secret').textContent();
    assert.match(secret, /^whsec_/);
    await alice.getByRole('button', { name: 'Send a ping' }).click();
    for (let i = 0; i < 100 && !received.some((r) => r.body.type === 'ping'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const ping = received.find((r) => r.body.type === 'ping');
    assert.ok(ping, 'the ping arrived');
    assert.match(ping.headers['x-pipeshare-signature'], /^sha256=[0-9a-f]{64}$/);
    await alice.reload();
    await alice.locator('table.deliveries').getByText('delivered').first().waitFor();

    // A grant ending soon is marked, and renewed by its length.
    await hydrated(alice);
    const soon = new Date(Date.now() + 2 * 86400_000).toISOString().slice(0, 10);
    await alice.getByLabel('Users').fill('bob');
    await alice.getByLabel('Expires (optional)').fill(soon);
    await alice.getByRole('button', { name: 'Grant' }).click();
    const row = alice.locator('table.grants tr', { hasText: 'user bob' });
    await row.getByText('ends soon').waitFor();
    const before = await row.locator('td').nth(2).textContent();
    await row.getByRole('button', { name: 'Renew bob' }).click();
    await alice.waitForFunction(
      (was) => {
        const cells = [...document.querySelectorAll('table.grants tr')].find((r) => r.textContent.includes('user bob'));
        return cells && !cells.textContent.includes(was.slice(0, 16));
      },
      before,
    );
    for (let i = 0; i < 100 && !received.some((r) => r.body.type === 'grant'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(received.some((r) => r.body.type === 'grant'), 'the grant was reported to the webhook');
    await shot(alice, 'pipe-webhooks');
  } finally {
    receiver.close();
  }
});

test('an admin adds a folder source and sees its state and last report', async () => {
  const folder = path.join(instance.dir, 'source-tree', 'from-source', '1.0.0');
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, 'plug.yaml'), 'name: from-source\nversion: 1.0.0\ndescription: Read from a source\n');
  mkdirSync(path.join(instance.dir, 'source-tree', 'broken', '1.0.0'), { recursive: true });
  writeFileSync(path.join(instance.dir, 'source-tree', 'broken', '1.0.0', 'plug.yaml'), 'name: [broken');

  const root = await (await browser.newContext()).newPage();
  await signIn(root, base, 'root');
  await root.waitForURL(`${base}/`);
  await root.getByRole('link', { name: 'Sources' }).click();
  await root.waitForURL(`${base}/admin/sources`);
  await hydrated(root);
  await root.getByLabel('Name', { exact: true }).fill('team-tree');
  await root.getByLabel('Location', { exact: false }).fill(path.join(instance.dir, 'source-tree'));
  await root.getByLabel('Owner of its pipes').fill('alice');
  await root.getByLabel('Rescan every').fill('manual');
  await root.getByRole('button', { name: 'Add source' }).click();
  const card = root.getByRole('region', { name: 'Source team-tree' });
  await card.getByText('unknown').waitFor();
  await card.getByRole('button', { name: 'Scan team-tree now' }).click();
  await card.getByText('degraded').waitFor();
  await card.getByText(/1 added, 0 updated, 0 unchanged, 0 gone, 1 invalid, 0 conflicts/).waitFor();
  await card.getByText(/broken\/1\.0\.0/).first().waitFor();
  await shot(root, 'sources');

  // A refused source says why.
  await root.getByLabel('Name', { exact: true }).fill('nowhere');
  await root.getByLabel('Location', { exact: false }).fill('relative/path');
  await root.getByLabel('Owner of its pipes').fill('alice');
  await root.getByRole('button', { name: 'Add source' }).click();
  await root.getByText(/must be an absolute path/).waitFor();
});
