/**
 * `npm start` = `watchdog sandbox`: the story must run to the end on a fresh
 * machine and tell what the product did, the same way every time. Runs it as
 * `npm start` does: the bundled CLI (dist/cli, built by `npm run build`) in a
 * child process, so a bundling fault (a dependency whose exports esbuild's
 * interop loses) fails here. Two runs at once (about 25 s of CPU each, one per
 * core): the second is what shows the story does not depend on arrival order.
 */
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { runProcess, type ProcessResult } from "../helpers/run-process.js";
import { normaliseStory } from "../helpers/normalise-story.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI = join(ROOT, "dist/cli/watchdog.js");

// Only what a user's shell would hold: no AZURE_ or NYLAS_ settings leak in from the runner.
const sandbox = () =>
  runProcess(process.execPath, [CLI, "sandbox"], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" },
    cwd: ROOT,
  });

describe("watchdog sandbox", () => {
  let runs: [ProcessResult, ProcessResult];
  beforeAll(async () => {
    expect(existsSync(CLI), "dist/cli/watchdog.js is missing: run `npm run build` (npm test does)").toBe(
      true,
    );
    runs = await Promise.all([sandbox(), sandbox()]);
  }, 360_000);

  it("runs twice with the same story apart from ids, ports, timings and dates", () => {
    const [a, b] = runs;
    expect([a.code, b.code]).toEqual([0, 0]);
    const [na, nb] = [normaliseStory(a.stdout), normaliseStory(b.stdout)];
    // The normalising blanks ids, not the story: names, counts and words survive it.
    expect(na).toMatch(/Payroll sync \(<id>\)[\s\S]*199 grant\.reauth_requested events/);
    expect(na.length).toBeGreaterThan(a.stdout.length * 0.8);
    expect(na.split("\n")).toEqual(nb.split("\n"));
  });

  it("tells the whole story: scan, a broken grant alerted and resolved, two rotations, migration, retirement, a second installation, evidence", () => {
    const { code, stdout: out, stderr: err } = runs[0];
    expect(code).toBe(0);
    expect(err).toBe("");
    expect(out).toMatch(/watchdog scan[\s\S]*Payroll sync .*CRITICAL/);
    expect(out).toMatch(/→ 200 from \/api\/nylas\/webhook in \d+ ms/);
    expect(out).toMatch(/PagerDuty {2}trigger dedup_key=grant\.invalid:/);
    expect(out).toMatch(/→ 200 \{"status":"duplicate"\}; alerts sent: 0/);
    expect(out).toMatch(/Decision: rotated[\s\S]*accepted after \d+ s \(simulated\)/);
    expect(out).toMatch(/199 grant\.reauth_requested events/);
    // The re-authentication link lands on the app's callback, which must exchange the code.
    expect(out).toMatch(
      /→ 302 to the app's callback .* with a one-time code in the query; Nylas has re-authenticated nothing yet/,
    );
    expect(out).toMatch(/The callback exchanges the code \(POST \/v3\/connect\/token\) → 200: only now/);
    expect(out).toMatch(/PagerDuty {2}resolve dedup_key=grant\.invalid:/);
    expect(out).toMatch(/PagerDuty {2}trigger dedup_key=secret\.migration:.* severity=critical/);
    expect(out).toMatch(/PagerDuty {2}resolve dedup_key=secret\.migration:/);
    // The paging rule: the routine rotation pages nobody; the migration pages once it turns critical.
    expect(out).toMatch(
      /PagerDuty \(PAGERDUTY_MIN_SEVERITY critical\) was paged for: secret\.expiring\.\n.*The rotation and the migration incident \(warning\) reached the other sinks only: a routine rotation pages nobody\./,
    );
    expect(out).toMatch(/watchdog run retired: [0-9a-f-]{36}/);
    expect(out).toMatch(/Users who had to start over from scratch: 0/);

    // A second installation (Northwind): refused with exit 3 and nothing written, adopts, the first is refused in turn.
    const northwind = out.slice(
      out.indexOf("A second installation"),
      out.indexOf("Evidence: Nylas moved everyone"),
    );
    expect(northwind).toMatch(
      /from a laptop[\s\S]*→ exit 3 \(other-installation\):\n.*managed by another watchdog installation: installation i-[0-9a-f]{8}/,
    );
    expect(northwind).toMatch(/Nothing was changed\.\n.*'watchdog run --adopt'/);
    expect(northwind).toMatch(
      /Nylas writes in the simulator's request log: (\d+) before, \1 after;\n.*the app's secrets unchanged; its plan empty/,
    );
    expect(northwind).toMatch(
      /--adopt from the laptop[\s\S]*→ exit 0 \(rotated\)[\s\S]*- adopt the connector from i-[0-9a-f]{8}: their secret\(s\) [0-9a-f-]{36} are kept/,
    );
    const [, installationA, keyA] =
      /Its Function App is installation\s+(i-[0-9a-f]{8})[\s\S]*?the connector's secret to ([0-9a-f-]{36})/.exec(
        northwind,
      ) ?? [];
    expect(northwind).toMatch(
      new RegExp(`Secrets on the app: .*${keyA?.slice(0, 8)} \\(${installationA}\\)`),
    );
    expect(northwind).toMatch(
      /the Function App's next pass[\s\S]*→ exit 3 \(other-installation\), refused in turn/,
    );
    expect(northwind).toMatch(
      /one installation again[\s\S]*--adopt[\s\S]*→ exit 0[\s\S]*3 valid grants, 0 gone invalid/,
    );

    // Evidence (Woodgrove): Nylas moved every grant, so nobody is asked; the old watchdog secret is retired after the quiet window.
    const woodgrove = out.slice(out.indexOf("Evidence: Nylas moved everyone"), out.indexOf("· Totals"));
    expect(woodgrove).toMatch(/Evidence mode: evidence — /);
    expect(woodgrove).toMatch(/The original secret: waiting — .*REAUTH_DEFER_HOURS/);
    expect(woodgrove).toMatch(/The original secret: moved — .*Nylas moved them to the new secret\./);
    // A resolve is headed by its note: what is true now.
    expect(woodgrove).toMatch(
      /• secret\.migration:\S+ resolved, warning: ".*Nylas moved them to the new secret\. Nobody needs to sign in again\."\n(?: {7}.*\n)*? {7}Webhook {4}incident\.resolved, signed/,
    );
    expect(woodgrove).toMatch(/grant\.reauth_requested events sent: 0\./);
    expect(woodgrove).toMatch(/· Woodgrove, 121 days later: the watchdog's secret is due/);
    const [, quietHours] = /(\d+) h after the switch \(RETIRE_QUIET_HOURS 72\)/.exec(woodgrove) ?? [];
    expect(Number(quietHours)).toBeGreaterThanOrEqual(72);
    expect(woodgrove).toMatch(
      /: moved — .*Nylas moved them to the new secret\.\n\s*watchdog run retired: [0-9a-f-]{36}\./,
    );
    expect(woodgrove).toMatch(
      /remove secret [0-9a-f-]{36}: Entra reports no sign-in with it for \d+ h since the switch/,
    );
    expect(woodgrove).toMatch(
      /25 valid grants, 0 gone invalid\.\n.*grant\.reauth_requested events on Woodgrove, both rotations: 0\./,
    );

    // Nothing the CLI's output redaction had to blank: the story prints no secret-shaped text.
    expect(out).not.toContain("[REDACTED]");
    // No temp paths (state directories) in what a person sees.
    expect(out).not.toContain(tmpdir());
    // Nothing secret in what a person sees.
    expect(out).not.toMatch(
      /sandboxslacktoken|sandboxteamstoken|sandbox-alert-signing-secret|abcdef0123456789abcdef0123456789/,
    );
  });

  it("the slips of issue 12 stay gone: headings from dates, exits with causes, summaries cut at words, health shown", () => {
    const out = runs[0].stdout;
    // "N days before the old secret expires" is what the migration alert under it says.
    const [, headingDays, alertDays] =
      /· (\d+) days before the old secret expires[\s\S]*?superseded client secret that expires in (\d+) day\(s\)/.exec(
        out,
      ) ?? [];
    expect(headingDays).toBeDefined();
    expect(headingDays).toBe(alertDays);
    expect(out).toMatch(
      /· The watchdog's own secret is due: (\d+) days left[\s\S]*?expires in \1 day\(s\) \(ROTATE_BEFORE_DAYS 60\)/,
    );

    // Every exit code says what set it.
    expect(out).toMatch(/→ exit 1: Payroll sync's [0-9a-f]{8} expires within ALERT_BEFORE_DAYS \(14\)/);
    expect(out).toMatch(
      /watchdog run → exit 1, because:\n\s+- secret\.migration:\S+ is open and critical: 49 Microsoft user\(s\) still on/,
    );
    expect(out).toMatch(/→ exit 0: every check passed/);
    expect(out).toMatch(/→ exit 1: 4 problem\(s\) — /);
    for (const line of out.split("\n").filter((l) => /\bexit \d\b/.test(l)))
      expect(line, line).toMatch(/exit \d(?:[:,]| \(| because|\. Decision|\)\S*;)/);

    // A chat header cut for length ends at a whole word: the group's summary has it in full (a
    // resolve's group is headed by its note, so there the word must occur whole somewhere else).
    const groups = out.split(/\n\s+• /).slice(1);
    const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    let cuts = 0;
    for (const group of groups) {
      const [, event, summary] = /^\S+ (\w+), \w+: (.*)/.exec(group) ?? [];
      for (const [, cut] of group.matchAll(/Slack {6}\S+ (?:Still open: |Resolved: )?(.*)…$/gm)) {
        cuts++;
        if (event === "resolved") {
          const lastWord = cut!.split(/\s+/).at(-1)!;
          expect(out.replace(cut!, ""), cut).toMatch(new RegExp(`${escape(lastWord)}[\\s.,;:)]`));
        } else expect(summary, cut).toMatch(new RegExp(`^${escape(cut!)}[\\s.,;:)]`));
      }
    }
    expect(cuts).toBeGreaterThan(0);

    // Health: a stopped timer is degraded (503), raises watchdog.stale and pages; the timer again resolves it.
    const health = out.slice(
      out.indexOf("watchdog health: a timer that stopped"),
      out.indexOf("A second installation"),
    );
    expect(health).toMatch(/grantSweep {6}STALE/);
    expect(health).toMatch(/→ exit 1: degraded/);
    expect(health).toMatch(
      /• watchdog\.stale triggered, critical[\s\S]*?PagerDuty {2}trigger dedup_key=watchdog\.stale/,
    );
    expect(health).toMatch(/GET \/api\/health → 503 \{"status":"degraded"/);
    expect(health).toMatch(
      /• watchdog\.stale resolved, critical: "Every timer has finished a pass recently again\."/,
    );
    expect(health).toMatch(/GET \/api\/health → 200 \{"status":"ok"/);

    // Self-check: doctor's checks as the deployed identity raise setup.broken:app.permission (it
    // pages: rotation cannot work), health is degraded; granted and restarted, it resolves.
    const selfCheck = out.slice(
      out.indexOf("The self-check: a redeploy without the Graph permission"),
      out.indexOf("A second installation"),
    );
    expect(selfCheck).toMatch(/open: setup\.broken:app\.permission/);
    expect(selfCheck).toMatch(
      /• setup\.broken:app\.permission triggered, critical[\s\S]*?PagerDuty {2}trigger dedup_key=setup\.broken:app\.permission/,
    );
    expect(selfCheck).toMatch(/Health: DEGRADED[\s\S]*?→ exit 1: degraded — the setup is broken/);
    expect(selfCheck).toMatch(
      /• setup\.broken:app\.permission resolved, critical: "The self-check passes app\.permission again/,
    );
  });
});
