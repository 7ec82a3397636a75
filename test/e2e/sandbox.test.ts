/**
 * `npm start` = `watchdog sandbox`: the story must run to the end on a fresh
 * machine and tell what the product did. Runs the same function in-process.
 */
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { runSandbox } from "../../lib/sandbox/story.js";

describe("watchdog sandbox", () => {
  it("tells the whole story: scan, a broken grant alerted and resolved, two rotations, migration, retirement", async () => {
    let out = "";
    let err = "";
    const code = await runSandbox(
      {
        out: (t) => void (out += t),
        err: (t) => void (err += t),
        stdin: new PassThrough(),
        stderrIsTTY: false,
        env: {},
      },
      { verbose: false },
    );
    expect(code).toBe(0);
    expect(err).toBe("");
    expect(out).toMatch(/watchdog scan[\s\S]*Payroll sync .*CRITICAL/);
    expect(out).toMatch(/→ 200 from \/api\/nylas\/webhook in \d+ ms/);
    expect(out).toMatch(/PagerDuty {2}trigger dedup_key=grant\.invalid:/);
    expect(out).toMatch(/→ 200 \{"status":"duplicate"\}; alerts sent: 0/);
    expect(out).toMatch(/Decision: rotated[\s\S]*accepted after \d+ s \(simulated\)/);
    expect(out).toMatch(/199 grant\.reauth_requested events/);
    expect(out).toMatch(/PagerDuty {2}resolve dedup_key=grant\.invalid:/);
    expect(out).toMatch(/PagerDuty {2}trigger dedup_key=secret\.migration:.* severity=critical/);
    expect(out).toMatch(/PagerDuty {2}resolve dedup_key=secret\.migration:/);
    expect(out).toMatch(/watchdog run retired: [0-9a-f-]{36}/);
    expect(out).toMatch(/Users who had to start over from scratch: 0/);
    // Nothing secret in what a person sees.
    expect(out).not.toMatch(
      /sandboxslacktoken|sandboxteamstoken|sandbox-alert-signing-secret|abcdef0123456789abcdef0123456789/,
    );
  }, 180_000);
});
