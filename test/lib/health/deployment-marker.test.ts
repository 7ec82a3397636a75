/** The deployment marker: equal for the same build and settings, different when either changes. */
import { describe, expect, it } from "vitest";
import { buildFingerprint, deploymentMarker } from "../../../lib/health/deployment-marker.js";

const CONFIG = {
  azure: {
    tenantId: "11111111-1111-1111-1111-111111111111",
    clientId: undefined,
    authorityHost: "https://login.microsoftonline.com",
    graphEndpoint: "https://graph.microsoft.com",
  },
  nylas: { apiUri: "https://api.us.nylas.com", webhookPublicUrl: undefined },
  rotation: { mode: "auto" as const },
};

describe("deploymentMarker", () => {
  it("the same build and settings → the same marker; another build → another", () => {
    expect(deploymentMarker(CONFIG, "aaaaaaaaaaaa")).toBe(deploymentMarker(CONFIG, "aaaaaaaaaaaa"));
    expect(deploymentMarker(CONFIG, "aaaaaaaaaaaa")).toMatch(/^build aaaaaaaaaaaa settings [0-9a-f]{8}$/);
    expect(deploymentMarker(CONFIG, "bbbbbbbbbbbb")).not.toBe(deploymentMarker(CONFIG, "aaaaaaaaaaaa"));
  });

  it("another identity, tenant or endpoint → another marker (the app restarts: for the self-check, a deployment)", () => {
    const base = deploymentMarker(CONFIG, "aaaaaaaaaaaa");
    const changed = [
      { ...CONFIG, azure: { ...CONFIG.azure, clientId: "22222222-2222-2222-2222-222222222222" } },
      { ...CONFIG, azure: { ...CONFIG.azure, tenantId: "33333333-3333-3333-3333-333333333333" } },
      { ...CONFIG, nylas: { ...CONFIG.nylas, apiUri: "https://api.eu.nylas.com" } },
      { ...CONFIG, rotation: { mode: "off" as const } },
    ];
    for (const config of changed) expect(deploymentMarker(config, "aaaaaaaaaaaa")).not.toBe(base);
  });
});

describe("buildFingerprint", () => {
  const url = "file:///app/functions/secret-watchdog.js";

  it("hashes the module file's bytes: other bytes, another fingerprint", () => {
    const a = buildFingerprint(url, () => Buffer.from('import "../chunks/chunk-AAAA.js";'));
    const b = buildFingerprint(url, () => Buffer.from('import "../chunks/chunk-BBBB.js";'));
    expect(a).toMatch(/^[0-9a-f]{12}$/);
    expect(b).not.toBe(a);
    expect(buildFingerprint(url, () => Buffer.from('import "../chunks/chunk-AAAA.js";'))).toBe(a);
  });

  it("reads the file the URL names", () => {
    const read: string[] = [];
    buildFingerprint(url, (path) => (read.push(path), Buffer.from("x")));
    expect(read).toEqual(["/app/functions/secret-watchdog.js"]);
  });

  it('an unreadable file → "unknown" (the daily run and the settings still decide)', () => {
    expect(
      buildFingerprint(url, () => {
        throw new Error("ENOENT");
      }),
    ).toBe("unknown");
  });
});
