// Publishing from the browser: a new pipe from an archive, a second version from the pipe's
// page, its README shown sanitised, promotion to an environment, a yank, and a refused upload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Instance, launchBrowser, hydrated, signIn, shot } from './harness.mjs';

let instance;
let browser;
let base;

/// A .tar.gz of a version folder <name>/<version>/ holding a manifest, code and a README.
function archive(name, version) {
  const root = path.join(instance.dir, 'work', version);
  const folder = path.join(root, name, version);
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, 'pipe.yaml'), `name: ${name}\nversion: ${version}\ndescription: Cleans tables\n`);
  writeFileSync(path.join(folder, 'main.py'), `print("${version}")\n`);
  writeFileSync(
    path.join(folder, 'README.md'),
    `# ${name} guide\n\nRun it **daily**.\n\n<script>window.pwned = true</script>\n<img src=x onerror="window.pwned = true">\n`,
  );
  const file = path.join(instance.dir, `${name}-${version}.tar.gz`);
  execFileSync('tar', ['czf', file, '-C', root, name]);
  return file;
}

before(async () => {
  instance = new Instance();
  instance.addUser('alice');
  instance.addUser('root', { admin: true });
  instance.cli(['settings', 'set', 'require_approval', 'true']);
  base = await instance.serve();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  instance?.stop();
});

test('publish a pipe and a version, read its README, promote and yank', async () => {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, base, 'alice');
  await page.waitForURL(`${base}/`);

  // A new pipe from the Publish page.
  await page.goto(`${base}/publish`);
  await hydrated(page);
  await page.getByLabel('Archive').setInputFiles(archive('table-cleaner', '1.0.0'));
  await page.getByRole('button', { name: 'Publish' }).click();
  await page.waitForURL(`${base}/pipes/table-cleaner?published=1.0.0`);
  await page.getByText('Version 1.0.0 published.').waitFor();

  // The README as HTML, with nothing that runs.
  await page.getByRole('heading', { name: 'table-cleaner guide' }).waitFor();
  assert.equal(await page.locator('.readme strong').textContent(), 'daily');
  assert.equal(await page.locator('.readme script').count(), 0);
  assert.equal(await page.locator('.readme [onerror]').count(), 0);
  assert.equal(await page.evaluate(() => window.pwned), undefined);

  // A second version from the pipe's own form.
  await hydrated(page);
  await page.getByLabel('Archive').setInputFiles(archive('table-cleaner', '1.1.0'));
  await page.getByRole('button', { name: 'Publish' }).click();
  await page.waitForURL(`${base}/pipes/table-cleaner?published=1.1.0`);
  const versions = page.locator('table.versions tbody tr');
  await versions.first().getByText('1.1.0').waitFor();
  assert.equal(await versions.count(), 2);

  // Promote 1.1.0 to staging.
  await hydrated(page);
  await page.locator('#promote-version').selectOption('1.1.0');
  await page.locator('#promote-environment').fill('staging');
  await page.getByRole('button', { name: 'Promote' }).click();
  await page.getByText('staging now points at 1.1.0.').waitFor();
  await page.locator('table.environments').getByText('staging').waitFor();
  await shot(page, 'pipe-versions');

  // prod is protected: with approvals on, the promotion waits for an admin, who approves it
  // on the approvals page.
  await page.locator('#promote-version').selectOption('1.1.0');
  await page.locator('#promote-environment').fill('prod');
  await page.getByRole('button', { name: 'Promote' }).click();
  await page.getByText("Promoting 1.1.0 to prod waits for an admin's approval.").waitFor();
  const admin = await (await browser.newContext()).newPage();
  await signIn(admin, base, 'root');
  await admin.waitForURL(`${base}/`);
  await admin.goto(`${base}/admin/approvals`);
  await hydrated(admin);
  await shot(admin, 'approvals-promotions');
  await admin.getByRole('button', { name: 'Approve table-cleaner 1.1.0 to prod' }).click();
  await admin.getByText('table-cleaner 1.1.0 is now in prod.').waitFor();
  await page.reload();
  await page.locator('table.environments').getByText('prod').waitFor();
  await hydrated(page);

  // Yank 1.0.0, saying why.
  await page.getByLabel('Why yank 1.0.0').fill('wrong defaults');
  await page.getByRole('button', { name: 'Yank' }).last().click();
  await page.locator('table.versions .badge.rejected').waitFor();

  // A file that is no archive is refused, with the reason on the form.
  const junk = path.join(instance.dir, 'notes.txt');
  writeFileSync(junk, 'just some notes');
  await page.goto(`${base}/publish`);
  await hydrated(page);
  await page.getByLabel('Archive').setInputFiles(junk);
  await page.getByRole('button', { name: 'Publish' }).click();
  await page.waitForURL(/publish_error=/);
  await page.getByText('not a .tar.gz or .zip archive', { exact: false }).waitFor();
});
