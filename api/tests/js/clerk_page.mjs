// Drives the clerk's page (GET /) in Debian's Chromium through playwright-core, as a clerk
// would at a 1366×768 window: asks a question and opens its first citation, then walks one
// matter to 提交. Run by api/tests/clerk_page.rs:
//   node clerk_page.mjs BASE_URL OUT_DIR QUESTION AS_OF AGENT MESSAGES_JSON
// Prints one JSON line with what it saw; screenshots go to OUT_DIR. Exits non-zero on any
// failure (after a failure.png), and on any script error the page raised.
import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const [base, outDir, question, asOf, agent, messagesJson] = process.argv.slice(2);
const messages = JSON.parse(messagesJson);
fs.mkdirSync(outDir, { recursive: true });
// A fresh profile each run, so that nothing of an earlier run (sessionStorage, cache) leaks in.
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "zhiban-chromium-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
  viewport: { width: 1366, height: 768 },
  locale: "zh-CN",
});
const page = context.pages()[0] ?? (await context.newPage());
page.setDefaultTimeout(30_000);
const pageErrors = [];
page.on("pageerror", (e) => pageErrors.push(String(e)));
page.on("console", (m) => { if (m.type() === "error") pageErrors.push(m.text()); });
// Nothing in this walk should be refused; name what was, since the console message does not.
page.on("response", (r) => { if (r.status() >= 400) pageErrors.push(`${r.status()} ${r.request().method()} ${r.url()}`); });

const id = (t) => page.getByTestId(t);
const textOf = (t) => page.evaluate((t) => document.querySelector(`[data-testid="${t}"]`)?.textContent ?? "", t);
const shot = async (name) => {
  const file = path.join(outDir, name);
  await page.screenshot({ path: file });
  return file;
};

let code = 0;
try {
  await page.goto(base + "/", { waitUntil: "load" });

  // (1) 学习问答: a question as of a date, then the first citation's article.
  await id("question").fill(question);
  await id("as-of").fill(asOf);
  await id("ask").click();
  await page.waitForFunction(() => document.querySelector('[data-testid="answer"]').textContent.trim().length > 0);
  const citations = await id("citation").count();
  if (citations === 0) throw new Error("the answer has no citation");
  await id("citation").first().click();
  await page.waitForFunction(() => document.querySelector('[data-testid="citation-text"]').textContent.trim().length > 0);
  const answer = await textOf("answer");
  const citationText = await textOf("citation-text");
  const warnings = await id("warning").count();
  const qaShot = await shot("qa.png");

  // (2) A matter: choose it, then the resident's messages one by one.
  await id("agent-select").selectOption(agent);
  await page.locator('[data-testid="session-state"][data-state="active"]').waitFor();
  const replies = [];
  for (const [i, m] of messages.entries()) {
    await id("message").fill(m); // waits until the input is enabled again
    await id("send").click();
    // The turn is done when the page shows the resident's message and is no longer busy.
    await page.waitForFunction((n) => {
      const done = document.querySelectorAll("#transcript .msg.resident").length === n;
      const state = document.querySelector('[data-testid="session-state"]').dataset.state;
      return done && (!document.querySelector('[data-testid="send"]').disabled || state !== "active");
    }, i + 1);
    replies.push(await textOf("reply"));
  }
  await page.locator('[data-testid="session-state"][data-state="submitted"]').waitFor();
  const caseNo = (await page.locator("#case-no").textContent()).trim();
  const toolCalls = await page.locator("#tool-calls tr").evaluateAll((rows) =>
    rows.map((r) => r.querySelector("td")?.textContent ?? ""));
  const formFields = await page.locator("#form tr th").allTextContents();
  const matterShot = await shot("matter.png");

  if (pageErrors.length) throw new Error("the page raised errors: " + pageErrors.join(" | "));
  console.log(JSON.stringify({
    answer, citations, citation_text: citationText, warnings, replies,
    state: await page.locator('[data-testid="session-state"]').getAttribute("data-state"),
    state_text: await textOf("session-state"), case_no: caseNo, tool_calls: toolCalls,
    form_fields: formFields, screenshots: [qaShot, matterShot],
  }));
} catch (e) {
  code = 1;
  console.error("clerk page test failed:", e && e.stack ? e.stack : e);
  if (pageErrors.length) console.error("page errors:", pageErrors.join(" | "));
  try { console.error("failure screenshot:", await shot("failure.png")); } catch { /* browser gone */ }
} finally {
  await context.close().catch(() => {});
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(code);
