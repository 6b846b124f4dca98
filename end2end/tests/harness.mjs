// A real pipeshare for browser tests: a temporary SQLite file, the CLI to set it up, and
// `pipeshare serve` on a free loopback port; Chromium from the system.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// Where cargo built it: CARGO_TARGET_DIR when set (relative to the repo, as cargo reads it).
const targetDir = path.resolve(repo, process.env.CARGO_TARGET_DIR ?? 'target');
export const bin = process.env.PIPESHARE_BIN ?? path.join(targetDir, 'debug/pipeshare');
export const output = path.join(repo, 'end2end/output');
export const corpus = path.join(repo, 'server/tests/fixtures/plugpipe');
export const password = 'correct horse battery';

export class Instance {
  constructor() {
    this.dir = mkdtempSync(path.join(tmpdir(), 'pipeshare-e2e-'));
    this.env = {
      ...process.env,
      DATABASE_URL: `sqlite://${path.join(this.dir, 'pipeshare.db')}?mode=rwc`,
      LEPTOS_SITE_ROOT: path.join(repo, 'target/site'),
      RUST_LOG: process.env.RUST_LOG ?? 'warn',
    };
  }

  cli(args, input) {
    return execFileSync(bin, args, { env: this.env, input: input ?? '', encoding: 'utf8' });
  }

  addUser(name, { admin = false } = {}) {
    this.cli(['user', 'add', name, '--password-stdin', ...(admin ? ['--admin'] : [])], `${password}\n`);
  }

  async serve() {
    this.server = spawn(bin, ['serve', '--addr', '127.0.0.1:0'], { env: this.env, stdio: ['ignore', 'pipe', 'inherit'] });
    this.url = await new Promise((resolve, reject) => {
      let seen = '';
      this.server.stdout.on('data', (chunk) => {
        seen += chunk;
        const match = seen.match(/pipeshare listening on (\S+)/);
        if (match) resolve(match[1]);
      });
      this.server.on('exit', (code) => reject(new Error(`pipeshare serve exited with ${code}`)));
    });
    return this.url;
  }

  stop() {
    this.server?.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function launchBrowser() {
  mkdirSync(output, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
  // The pages' own errors (a panic in the browser app stops hydration) go to the test's log.
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (...args) => {
    const context = await newContext(...args);
    context.on('console', (message) => {
      if (message.type() === 'error') console.error(`browser console: ${message.text()} (${message.location().url})`);
    });
    context.on('weberror', (error) => console.error(`browser page error: ${error.error()}`));
    return context;
  };
  return browser;
}

/// Waits until the browser app has taken over the server-rendered page. The debug build's
/// wasm is large (about 24 MB): on two busy cores compiling it can take half a minute.
export async function hydrated(page) {
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 90_000 });
}

export async function signIn(page, base, user, pass = password) {
  await page.goto(`${base}/login`);
  await hydrated(page);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(pass);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(output, `${name}.png`), fullPage: true });
}
