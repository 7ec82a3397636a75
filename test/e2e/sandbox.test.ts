/**
 * `npm start` = `watchdog sandbox`: the story must run to the end on a fresh
 * machine and tell what the product did. Runs it as `npm start` does: the
 * bundled CLI (dist/cli, built by `npm run build`) in a child process, so a
 * bundling fault (a dependency whose exports esbuild's interop loses) fails here.
 */
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runProcess } from "../helpers/run-process.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI = join(ROOT, "dist/cli/watchdog.js");

describe("watchdog sandbox", () => {
  it("tells the whole story: scan, a broken grant alerted and resolved, two rotations, migration, retirement, a second installation, evidence", async () => {
    expect(existsSync(CLI), "dist/cli/watchdog.js is missing: run `npm run build` (npm test does)").toBe(
      true,
    );
    // Only what a user's shell would hold: no AZURE_ or NYLAS_ settings leak in from the runner.
    const {
      code,
      stdout: out,
      stderr: err,
    } = await runProcess(process.execPath, [CLI, "sandbox"], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" },
      cwd: ROOT,
    });
    expect(code).toBe(0);
    expect(err).toBe("");
    expect(out).toMatch(/watchdog scan[\s\S]*Payroll sync .*CRITICAL/);
    expect(out).toMatch(/→ 200 from \/api\/nylas\/webhook in \d+ ms/);
    expect(out).toMatch(/PagerDuty {2}trigger dedup_key=grant\.invalid:/);
    expect(out).toMatch(/→ 200 \{"status":"duplicate"\}; alerts sent: 0/);
    expect(out).toMatch(/Decision: rotated[\s\S]*accepted after \d+ s \(simulated\)/);
    expect(out).toMatch(/199 grant\.reauth_requested events/);
    // The re-authentication link lands on the app's callback, which must exchange the code.
    expect(out).toMatch(/→ 302 to the app's callback .*\?code=…; Nylas has re-authenticated nothing yet/);
    expect(out).toMatch(/The callback exchanges the code \(POST \/v3\/connect\/token\) → 200: only now/);
    expect(out).toMatch(/PagerDuty {2}resolve dedup_key=grant\.invalid:/);
    expect(out).toMatch(/PagerDuty {2}trigger dedup_key=secret\.migration:.* severity=critical/);
    expect(out).toMatch(/PagerDuty {2}resolve dedup_key=secret\.migration:/);
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
    expect(woodgrove).toMatch(/Webhook {4}incident\.resolved secret\.migration:/);
    expect(woodgrove).toMatch(
      /Resolution note: ".*Nylas moved them to the new secret\. Nobody needs to sign in again\."/,
    );
    expect(woodgrove).toMatch(/grant\.reauth_requested events sent: 0\./);
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

    // No temp paths (state directories) in what a person sees.
    expect(out).not.toContain(tmpdir());
    // Nothing secret in what a person sees.
    expect(out).not.toMatch(
      /sandboxslacktoken|sandboxteamstoken|sandbox-alert-signing-secret|abcdef0123456789abcdef0123456789/,
    );
  }, 180_000);
});
