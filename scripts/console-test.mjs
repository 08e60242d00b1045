// Drives the admin console in a real headless Chromium (the system's /usr/bin/chromium;
// playwright-core downloads no browser) against a running handler, as a tenant admin would:
// sign in through the dev issuer, see the subscription, see its failed attempts, replay the
// dead letter and see it delivered, watch the counters. Screenshots of each step go to the
// screenshot directory.
//
// The Go test handler/e2e_console_test.go prepares the handler (a subscription whose loopback
// callback failed, so one delivery is a dead letter, and now succeeds) and runs this script
// with:
//   NIMBUS_CONSOLE_BASE          the handler's base URL, e.g. http://127.0.0.1:7071
//   NIMBUS_CONSOLE_SUBSCRIPTION  the subscription id to look for
//   NIMBUS_CONSOLE_EVENT         the event id of the subscription's dead letter
//   NIMBUS_CONSOLE_MORE_EVENTS   three more dead letters' event ids (comma-separated), of
//                                another subscription whose callback now works too
//   NIMBUS_CONSOLE_EXPECT        the counters to see at the end, e.g. delivered=4,retried=1
//   NIMBUS_CONSOLE_SCREENSHOTS   directory for the screenshots
//   NIMBUS_CHROMIUM              the browser (default /usr/bin/chromium)
//   NIMBUS_CONSOLE_AUTHORITY, NIMBUS_CONSOLE_CLIENT_ID, NIMBUS_CONSOLE_SCOPE
//                                the handler's Entra sign-in settings; the authority is a
//                                stand-in that this script answers inside the browser
//                                (authorization code with PKCE, checked as Entra would)
// Exit status 0 when every step passed; 1 with the failing step otherwise.
import { chromium } from "playwright-core";
import { createHash } from "node:crypto";
import { mkdtempSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const base = process.env.NIMBUS_CONSOLE_BASE;
const subscription = process.env.NIMBUS_CONSOLE_SUBSCRIPTION;
const eventId = process.env.NIMBUS_CONSOLE_EVENT;
const moreEvents = (process.env.NIMBUS_CONSOLE_MORE_EVENTS || "").split(",").filter(Boolean);
const expect = Object.fromEntries((process.env.NIMBUS_CONSOLE_EXPECT || "").split(",").filter(Boolean).map((kv) => kv.split("=")));
const shots = process.env.NIMBUS_CONSOLE_SCREENSHOTS || mkdtempSync(join(tmpdir(), "nimbusflow-console-"));
const executablePath = process.env.NIMBUS_CHROMIUM || "/usr/bin/chromium";
const authority = process.env.NIMBUS_CONSOLE_AUTHORITY;
const clientId = process.env.NIMBUS_CONSOLE_CLIENT_ID;
const scope = process.env.NIMBUS_CONSOLE_SCOPE;
if (!base || !subscription || !eventId || moreEvents.length !== 3 || Object.keys(expect).length === 0) {
  console.error("console-test: set NIMBUS_CONSOLE_BASE, NIMBUS_CONSOLE_SUBSCRIPTION, NIMBUS_CONSOLE_EVENT, NIMBUS_CONSOLE_MORE_EVENTS (three ids) and NIMBUS_CONSOLE_EXPECT");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
for (const f of readdirSync(shots)) if (f.endsWith(".png")) rmSync(join(shots, f)); // no stale artefacts

// Every wait has a deadline; the machine may be busy with other tests.
const WAIT = 30_000;

// A fresh profile each run (playwright passes it as --user-data-dir), removed at the end.
const profile = mkdtempSync(join(tmpdir(), "nimbusflow-chromium-"));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  viewport: { width: 1360, height: 820 },
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});

const problems = [];
let step = "start";
let shot = 0;
let page = null;
try {
  page = browser.pages()[0] || (await browser.newPage());
  page.setDefaultTimeout(WAIT);
  // A blocked script or style (the content security policy) or an uncaught error fails the run.
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console error: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  const snap = async (name) => {
    const file = join(shots, `${String(++shot).padStart(2, "0")}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
  };

  step = "open the console";
  const res = await page.goto(`${base}/console`);
  if (!res.ok()) throw new Error(`GET /console answered ${res.status()}`);
  const csp = res.headers()["content-security-policy"] || "";
  if (!csp.includes("script-src 'self'") || !csp.includes("frame-ancestors 'none'")) throw new Error(`content security policy ${JSON.stringify(csp)}`);
  await page.locator("#dev-form").waitFor();
  await page.locator("#dev-upn").waitFor();
  if (!(await page.inputValue("#dev-upn"))) throw new Error("the dev sign-in does not suggest the demo tenant admin");
  await snap("sign-in");

  step = "sign in as the tenant admin";
  await page.click("#dev-form button[type=submit]");
  await page.locator("#who-name").waitFor();
  const token = await page.evaluate(() => sessionStorage.getItem("nimbus.console.token"));
  const stored = await page.evaluate(() => JSON.stringify(localStorage));
  if (!token || stored.includes(token)) throw new Error("the token is not in sessionStorage alone");

  step = "see the subscription";
  const row = page.locator(`tr[data-id="${subscription}"]`);
  await row.waitFor();
  await row.locator("td.last .badge").waitFor();
  const rowText = await row.innerText();
  if (!/serviceowner|@/i.test(rowText)) throw new Error(`the row shows no owner: ${rowText}`);
  if (/\/console-cb/.test(rowText)) throw new Error(`the row shows the callback path: ${rowText}`);
  await row.locator("td.last .b-deadLetter").waitFor();
  await snap("subscriptions");

  step = "see the failed attempts";
  await row.locator(`a[href="#/subscriptions/${subscription}"]`).click();
  await page.locator('tr[data-outcome="retry"]').first().waitFor();
  await page.locator('tr[data-outcome="deadLetter"]').first().waitFor();
  const failed = await page.locator('tr[data-outcome="deadLetter"]').first().innerText();
  if (!failed.includes(eventId) || !failed.includes("400")) throw new Error(`the dead-lettered attempt shows ${failed}`);
  await snap("attempts-failed");

  step = "page through the attempts";
  // One attempt a page: newest first (the dead letter), then the retry, then nothing older.
  await page.goto(`${base}/console/#/subscriptions/${subscription}?limit=1`);
  await page.locator('tr[data-outcome="deadLetter"]').waitFor();
  await page.click("#attempts-older");
  await page.locator('tr[data-outcome="retry"]').waitFor();
  if (await page.locator("tbody tr").count() !== 1) throw new Error("a page of one attempt shows more");
  if (!(await page.isDisabled("#attempts-older"))) throw new Error("the oldest attempt's page offers older ones");
  await page.click("#attempts-newer");
  await page.locator('tr[data-outcome="deadLetter"]').waitFor();
  if (!(await page.isDisabled("#attempts-newer"))) throw new Error("the newest page offers newer ones");

  step = "replay the dead letter";
  await page.click('#nav a[data-view="dead-letters"]');
  const letter = page.locator("tbody tr", { hasText: eventId });
  await letter.waitFor();
  await snap("dead-letters");
  await letter.locator("button.replay-one").click();
  await page.locator("#notice", { hasText: "Replayed 1 dead letter" }).waitFor();
  await letter.waitFor({ state: "detached" });
  await snap("replayed");

  step = "replay a selection of dead letters";
  await page.check(`input[aria-label="Select ${moreEvents[0]}"]`);
  await page.check(`input[aria-label="Select ${moreEvents[1]}"]`);
  await page.locator("#dl-replay-selected", { hasText: "Replay selected (2)" }).click();
  await page.locator("#notice", { hasText: "Replayed 2 dead letters" }).waitFor();
  await page.locator("#dl-count", { hasText: "1 dead letter." }).waitFor();
  if (!(await page.locator("tbody tr", { hasText: moreEvents[2] }).count())) throw new Error("the dead letter left out of the selection was replayed too");

  step = "replay a time range";
  // datetime-local takes the browser's local time: ten minutes either side of now.
  const [since, until] = await page.evaluate(() => [-600e3, 600e3].map((d) => {
    const t = new Date(Date.now() + d);
    const pad = (n) => String(n).padStart(2, "0");
    return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}T${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
  }));
  await page.fill("#dl-since", since);
  await page.fill("#dl-until", until);
  await page.click("#dl-range button[type=submit]");
  await page.locator("#notice", { hasText: "Replayed 1 dead letter" }).waitFor();
  await page.locator("p.empty", { hasText: "No dead letters." }).waitFor();

  step = "see the replay delivered";
  await page.goto(`${base}/console/#/subscriptions/${subscription}`);
  const deadline = Date.now() + WAIT;
  while (!(await page.locator('tr[data-outcome="delivered"]').count())) {
    if (Date.now() > deadline) throw new Error("no delivered attempt appeared after the replay");
    await page.waitForTimeout(250);
    await page.click("#attempts-refresh");
    await page.locator("table.grid, p.empty").first().waitFor();
  }
  const delivered = await page.locator('tr[data-outcome="delivered"]').first().innerText();
  if (!delivered.includes(eventId) || !delivered.includes("200")) throw new Error(`the delivered attempt shows ${delivered}`);
  await snap("attempts-delivered");

  step = "watch the live counters";
  await page.click('#nav a[data-view="counters"]');
  // The view polls, so the figures may take a round to arrive.
  for (const [key, want] of Object.entries(expect)) {
    const cell = page.locator(`dd[data-counter="${key}"]`);
    await cell.waitFor();
    const until = Date.now() + WAIT;
    while ((await cell.innerText()) !== want) {
      if (Date.now() > until) throw new Error(`the ${key} counter shows ${await cell.innerText()}, want ${want}`);
      await page.waitForTimeout(250);
    }
  }
  await snap("counters");

  step = "sign out";
  await page.click("#sign-out");
  await page.locator("#dev-form").waitFor();
  if (await page.evaluate(() => sessionStorage.getItem("nimbus.console.token"))) throw new Error("signing out kept the token");

  step = "sign in as the operator, acting on the tenant";
  await page.selectOption("#dev-kind", "app");
  if (await page.locator("#dev-upn").isVisible()) throw new Error("the operator sign-in still asks for a user");
  await page.click("#dev-form button[type=submit]");
  await page.locator("#acting-tenant").waitFor();
  await page.locator(`tr[data-id="${subscription}"]`).waitFor();
  await snap("operator");
  await page.click("#sign-out");

  if (authority) {
    step = "sign in with Entra (authorization code with PKCE)";
    await entraSignIn(page);
    await page.locator(`tr[data-id="${subscription}"]`).waitFor();
    if (new URL(page.url()).search) throw new Error(`the sign-in answer stayed in the address bar: ${page.url()}`);
    await snap("entra");
    await page.click("#sign-out");
  }

  if (problems.length) throw new Error(problems.join("\n"));
  console.log(`console-test: all steps passed; screenshots in ${shots}`);
} catch (err) {
  console.error(`console-test: step "${step}" failed: ${err.message}`);
  if (page) {
    await page.screenshot({ path: join(shots, "failed.png"), fullPage: true }).catch(() => {});
    console.error(`console-test: the page said: ${(await page.locator("body").innerText().catch(() => "")).slice(0, 2000)}`);
  }
  if (problems.length) console.error(problems.join("\n"));
  console.error(`console-test: screenshots in ${shots}`);
  process.exitCode = 1;
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}

// entraSignIn plays the authority for one sign-in: its authorize endpoint checks the request
// and sends the browser back with a code; its token endpoint checks the PKCE verifier against
// the challenge, as Entra does, and answers with an access token (a dev token of the tenant
// admin, which the handler accepts).
async function entraSignIn(page) {
  const base64url = (buf) => buf.toString("base64").replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const code = "code-" + Date.now();
  const redirect = `${base}/console/`;
  let challenge = "";
  let redeemed = false;
  const demo = await (await fetch(`${base}/dev/demo`)).json();
  const minted = await (await fetch(`${base}/dev/token`, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ tenantId: demo.tenantId, upn: demo.users.tenantAdmin }),
  })).json();
  const cors = { "Access-Control-Allow-Origin": base, "Access-Control-Allow-Headers": "content-type" };
  await page.route((url) => url.href.startsWith(`${authority}/oauth2/v2.0/authorize?`), async (route) => {
    const q = new URL(route.request().url()).searchParams;
    const want = { client_id: clientId, response_type: "code", redirect_uri: redirect, scope, code_challenge_method: "S256" };
    for (const [k, v] of Object.entries(want)) {
      if (q.get(k) !== v) problems.push(`authorize: ${k} is ${q.get(k)}, want ${v}`);
    }
    challenge = q.get("code_challenge") || "";
    if (!/^[A-Za-z0-9_-]{43}$/.test(challenge) || !q.get("state")) problems.push(`authorize: challenge ${challenge}, state ${q.get("state")}`);
    await route.fulfill({ status: 302, headers: { Location: `${redirect}?code=${code}&state=${encodeURIComponent(q.get("state"))}` } });
  });
  await page.route((url) => url.href === `${authority}/oauth2/v2.0/token`, async (route) => {
    const req = route.request();
    if (req.method() === "OPTIONS") return route.fulfill({ status: 204, headers: cors });
    const f = new URLSearchParams(req.postData() || "");
    const verifier = f.get("code_verifier") || "";
    const ok = f.get("grant_type") === "authorization_code" && f.get("code") === code && f.get("client_id") === clientId &&
      f.get("redirect_uri") === redirect && verifier.length >= 43 && base64url(createHash("sha256").update(verifier).digest()) === challenge;
    if (!ok) {
      problems.push(`token: the request does not redeem the code with its verifier: ${req.postData()}`);
      return route.fulfill({ status: 400, headers: cors, contentType: "application/json", body: JSON.stringify({ error: "invalid_grant", error_description: "The code or verifier is wrong." }) });
    }
    redeemed = true;
    return route.fulfill({ status: 200, headers: cors, contentType: "application/json", body: JSON.stringify({ token_type: "Bearer", access_token: minted.access_token, expires_in: 3600 }) });
  });
  await page.locator("#entra-signin").click();
  await page.locator("#who-name").waitFor();
  if (!redeemed) throw new Error("the page signed in without redeeming the code");
  if ((await page.locator("#who-name").innerText()) !== demo.users.tenantAdmin) throw new Error("the Entra sign-in shows another user");
  if (await page.evaluate(() => sessionStorage.getItem("nimbus.console.pkce"))) throw new Error("the PKCE verifier outlived the sign-in");
}
