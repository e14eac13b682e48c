// The dashboard in a real browser (Debian's headless Chromium, driven by playwright-core): load the task list, open
// the failed task, check the page escaped its <script> data and explains the failure, retry it with the access
// token, and see it change to pending. Screenshots go to artifacts/screenshots/ (TASKER_UPDATE_SCREENSHOT=1 also
// refreshes docs/dashboard-task.png, the one the README shows).
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const [base, taskUuid, token] = process.argv.slice(2);
const root = path.resolve(__dirname, '../..');

async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tasker-chromium-'));
  // A fresh profile each run (Playwright passes it to Chromium as --user-data-dir).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
    viewport: { width: 1280, height: 1000 },
  });
  const alerts = [];
  try {
    const page = await context.newPage();
    page.on('dialog', async (dialog) => { alerts.push(dialog.message()); await dialog.dismiss(); });

    // The list: the failed task is there, in error, and the counts by state say so.
    await page.goto(base + '/');
    const row = page.locator('#tasks tr', { hasText: taskUuid });
    assert.equal(await row.locator('.state').innerText(), 'error');
    assert.match(await page.locator('.counts').innerText(), /error 1/);

    // The task page: the DAG, the failure explained, the user data shown as text.
    await row.locator('a').click();
    await page.waitForURL(`**/tasks/${taskUuid}`);
    assert.equal(await page.locator('#task-state').innerText(), 'error');
    assert.equal(await page.locator('svg.dag a[data-state="error"]').count(), 1);
    assert.match(await page.locator('#step-ship').innerText(), /blocked: charge failed/);
    assert.match(await page.locator('pre.error').innerText(), /card declined <script>alert\('xss'\)<\/script>/);
    assert.match(await page.locator('#context').innerText(), /<script>alert\('ctx'\)<\/script>/);
    assert.equal(await page.locator('script').count(), 0, 'no script element may come from user data');
    fs.mkdirSync(path.join(root, 'artifacts/screenshots'), { recursive: true });
    await page.screenshot({ path: path.join(root, 'artifacts/screenshots/dashboard-task.png'), fullPage: true });
    if (process.env.TASKER_UPDATE_SCREENSHOT === '1') {
      await page.screenshot({ path: path.join(root, 'docs/dashboard-task.png'), fullPage: true });
    }

    // A wrong token is refused and changes nothing.
    await page.fill('#retry-form input[name=token]', 'wrong');
    await page.click('#retry');
    assert.match(await page.locator('h1').innerText(), /Forbidden/);
    await page.goBack();

    // Retry with the token: the task is pending again, the audit trail names who and why.
    await page.goto(`${base}/tasks/${taskUuid}`);
    await page.fill('#retry-form input[name=token]', token);
    await page.fill('#retry-form input[name=actor]', 'browser-test');
    await page.fill('#retry-form input[name=reason]', 'card replaced');
    await page.click('#retry');
    await page.waitForURL(`**/tasks/${taskUuid}?done=retry`);
    assert.equal(await page.locator('#flash').innerText(), 'retry: done');
    assert.equal(await page.locator('#task-state').innerText(), 'pending');
    assert.match(await page.locator('#audit').innerText(), /card replaced\s+browser-test/);
    assert.match(await page.locator('#step-charge').innerText(), /waiting for a worker with handler 'ChargeCard'/);
    await page.screenshot({ path: path.join(root, 'artifacts/screenshots/dashboard-task-retried.png'), fullPage: true });

    assert.deepEqual(alerts, [], 'no script ran');
    console.log(`browser test passed: listed, opened, retried ${taskUuid} in ${process.env.CHROMIUM || '/usr/bin/chromium'}`);
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
