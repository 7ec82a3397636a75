/**
 * `watchdog grants [--json]` against the simulated Nylas: the invalid grants,
 * each with its hosted-auth re-auth link; exit 0 none · 1 some · 2 bad
 * configuration · 3 Nylas refusing. Paged past Nylas's 200-per-page limit.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AttentionGrant } from "../../../lib/grants/list-attention-grants.js";
import { runWatchdog } from "../../helpers/cli.js";
import { secretsIn, startWorld, type World } from "../../helpers/watchdog-world.js";

interface GrantsDoc {
  schema: string;
  grants: AttentionGrant[];
  count: number;
}

let w: World;
beforeAll(async () => {
  w = await startWorld({
    host: false,
    seed: { grantEmails: Array.from({ length: 210 }, (_, i) => `user${i}@contoso.com`) },
  });
});
afterAll(async () => {
  await w?.close();
});

describe("watchdog grants", () => {
  it("none invalid → exit 0", async () => {
    const r = await runWatchdog(["grants"], w.env);
    expect(r).toMatchObject({ code: 0, stdout: "No grant needs re-authentication.\n" });
    const j = await runWatchdog(["grants", "--json"], w.env);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toEqual({
      schema: "secret-watchdog.grants/v1",
      grants: [],
      count: 0,
      complete: true,
      connector: { activeCredentialId: w.sim.tenant.nylas.connector!.active_credential_id },
      problems: [],
      exitCode: 0,
    });
  });

  it("invalid grants → exit 1, each with a re-auth link (login_hint = email); non-Microsoft grants without one", async () => {
    const invalid = [w.grants[3]!, w.grants[150]!];
    for (const g of invalid) g.grant_status = "invalid";
    const google = w.sim.tenant.nylas.addGrant({
      email: "gina@gmail.example",
      provider: "google",
      grant_status: "invalid",
    });
    w.sim.tenant.nylas.touch();

    const r = await runWatchdog(["grants"], w.env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("3 grant(s) need re-authentication.");
    for (const g of invalid) {
      expect(r.stdout.toLowerCase()).toContain(`${g.email}  grant ${g.id}  microsoft  invalid`);
      expect(r.stdout).toContain(`login_hint=${encodeURIComponent(g.email)}`);
    }
    expect(r.stdout.toLowerCase()).toContain(`gina@gmail.example  grant ${google.id}  google  invalid`);

    const j = await runWatchdog(["grants", "--json"], w.env);
    expect(j.code).toBe(1);
    const doc = JSON.parse(j.stdout) as GrantsDoc;
    expect(doc.count).toBe(3);
    const byId = Object.fromEntries(doc.grants.map((g) => [g.grantId, g]));
    for (const g of invalid) {
      expect(byId[g.id]).toMatchObject({
        email: g.email,
        provider: "microsoft",
        reason: "invalid",
        credentialId: g.credential_id,
      });
      expect(g.credential_id).toBeDefined();
      const link = new URL(byId[g.id]!.reauthUrl!);
      expect(link.pathname).toBe("/v3/connect/auth");
      expect(link.searchParams.get("provider")).toBe("microsoft");
      expect(link.searchParams.get("login_hint")).toBe(g.email);
      expect(link.searchParams.get("client_id")).toBe(w.sim.tenant.nylas.applicationId);
      expect(link.searchParams.get("redirect_uri")).toBe(w.env.REAUTH_REDIRECT_URI);
    }
    expect(byId[google.id]!.reauthUrl).toBeNull();
    expect(secretsIn(j.stdout + j.stderr + r.stdout + r.stderr, w.secrets)).toEqual([]);
  });

  it("pages past 200 invalid grants", async () => {
    for (const g of w.grants) g.grant_status = "invalid";
    w.sim.tenant.nylas.touch();
    const j = await runWatchdog(["grants", "--json"], w.env);
    expect(j.code).toBe(1);
    const doc = JSON.parse(j.stdout) as GrantsDoc;
    expect(doc.count).toBe(211);
    expect(new Set(doc.grants.map((g) => g.grantId)).size).toBe(211);
  });

  it("without NYLAS_CLIENT_ID and REAUTH_REDIRECT_URI: no links, and says how to get them", async () => {
    const r = await runWatchdog(["grants"], { ...w.env, NYLAS_CLIENT_ID: "", REAUTH_REDIRECT_URI: "" });
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain("/v3/connect/auth");
    expect(r.stdout).toContain("Set NYLAS_CLIENT_ID and REAUTH_REDIRECT_URI");
  });

  it("bad configuration → exit 2 naming the setting; Nylas refusing the key → exit 3 without the key", async () => {
    const bad = await runWatchdog(["grants"], { ...w.env, NYLAS_API_KEY: "" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("NYLAS_API_KEY");
    expect(bad.stdout).toBe("");

    const wrongKey = "nyk_v0_wrong_key_0123456789abcdef";
    const refused = await runWatchdog(["grants"], { ...w.env, NYLAS_API_KEY: wrongKey });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/401/);
    expect(refused.stderr).toContain("Check NYLAS_API_KEY");
    expect(refused.stderr).not.toContain(wrongKey);
  });
});
