import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DAY_MS } from "../../../lib/clock.js";
import { startDoctorWorld, type CliRun, type DoctorWorld } from "./harness.js";
import { PAGE } from "./cited-pages.js";

let w: DoctorWorld;
beforeEach(async () => {
  w = await startDoctorWorld();
});
afterEach(async () => {
  await w.close();
});

const connectorSecret = () => w.sim.tenant.connectorSecret()!.password!;

/** Everything the product said or wrote: the value must be in none of it. */
function expectNoLeak(run: CliRun, value: string) {
  expect(run.out).not.toContain(value);
  expect(run.err).not.toContain(value);
  expect(w.logs.join("\n")).not.toContain(value);
  expect(w.stateText()).not.toContain(value);
}

describe("doctor --secret", () => {
  it("accepts the connector's secret value, read from piped stdin (one trailing newline trimmed)", async () => {
    const value = connectorSecret().value;
    const run = await w.cli(["--secret"], { stdin: `${value}\n` });
    expect(run.code).toBe(0);
    expect(run.out).toContain(
      'ACCEPTED  Entra accepts this value as a client secret of "Nylas Microsoft connector"',
    );
    expect(run.out).toContain(`It is secret ${connectorSecret().keyId} "Nylas connector"`);
    expectNoLeak(run, value);
  });

  it("says which secret the connector holds according to the rotation record", async () => {
    const other = w.sim.tenant.addSecret(w.sim.nylasApp!.id, {
      endDateTime: new Date(w.clock.now().getTime() + 300 * DAY_MS),
    });
    await w.recordConnectorSecret(connectorSecret().keyId);
    const run = await w.cli(["--secret"], { stdin: other.value });
    expect(run.code).toBe(0);
    expect(run.out).toContain(
      `The rotation record says the connector holds ${connectorSecret().keyId}, not this one.`,
    );
    expectNoLeak(run, other.value);
  });

  it("seed 000: recognises the secret ID pasted instead of the value", async () => {
    const keyId = connectorSecret().keyId;
    const run = await w.cli(["--secret"], { stdin: keyId });
    expect(run.code).toBe(1);
    expect(run.out).toContain("This is the secret ID, not its value");
    expect(run.out).toContain("AADSTS7000215");
    expect(run.out).toContain(
      "copy the Value field of the secret (which is only visible immediately after creation, not the Secret ID)",
    );
    expect(run.out).toContain(PAGE.forum45001);
    // Recognised locally: Entra was never asked with the ID.
    expect(w.sim.requests.some((r) => r.service === "entra" && r.body.includes(keyId))).toBe(false);
  });

  it("says when the value is an expired secret (matched by hint)", async () => {
    const expired = w.sim.tenant.addSecret(w.sim.nylasApp!.id, {
      displayName: "old",
      startDateTime: new Date(w.clock.now().getTime() - 400 * DAY_MS),
      endDateTime: new Date(w.clock.now().getTime() - 10 * DAY_MS),
    });
    const run = await w.cli(["--secret"], { stdin: expired.value });
    expect(run.code).toBe(1);
    expect(run.out).toContain(`This value is an expired secret of "Nylas Microsoft connector"`);
    expect(run.out).toContain(`it matches secret ${expired.keyId} "old", which ended`);
    expect(run.out).toContain("AADSTS7000222");
    expect(run.out).toContain("New client secret");
    expectNoLeak(run, expired.value);
  });

  it("suspects propagation for a secret created minutes ago", async () => {
    w.sim.tenant.propagationDelayMs = 5 * 60_000;
    const now = w.clock.now();
    const fresh = w.sim.tenant.createPassword(w.sim.nylasApp!, {
      startDateTime: now,
      endDateTime: new Date(now.getTime() + 180 * DAY_MS),
    });
    const run = await w.cli(["--secret"], { stdin: fresh.value });
    expect(run.code).toBe(1);
    expect(run.out).toContain(`it may be secret ${fresh.keyId}`);
    expect(run.out).toContain("a new secret can take minutes before Entra accepts it");
    expectNoLeak(run, fresh.value);
  });

  it("refuses a value that is no secret of the app, and one that was cut short", async () => {
    const bogus = "Zq98Q~notARealSecretValue.ofThisApp-1234567";
    let run = await w.cli(["--secret"], { stdin: bogus });
    expect(run.code).toBe(1);
    expect(run.out).toContain('it is not a secret of "Nylas Microsoft connector"');
    expectNoLeak(run, bogus);

    const cut = connectorSecret().value.slice(0, 20);
    run = await w.cli(["--secret"], { stdin: cut });
    expect(run.code).toBe(1);
    expect(run.out).toContain(`It begins like secret ${connectorSecret().keyId}`);
    expectNoLeak(run, cut);
  });

  it("prints one JSON document with --json, without the value", async () => {
    const value = connectorSecret().value;
    const run = await w.cli(["--secret", "--json"], { stdin: value });
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.out);
    expect(doc).toMatchObject({
      schema: "secret-watchdog.doctor/v1",
      mode: "secret",
      accepted: true,
      exitCode: 0,
    });
    expect(doc.details.keyId).toBe(connectorSecret().keyId);
    expectNoLeak(run, value);
  });

  it("refuses a value given on the command line, without echoing it", async () => {
    const value = connectorSecret().value;
    const run = await w.cli(["--secret", value]);
    expect(run.code).toBe(2);
    expect(run.err).toContain("a secret on the command line stays in shell history");
    expectNoLeak(run, value);
    const inline = await w.cli([`--secret=${value}`]);
    expect(inline.code).toBe(2);
    expectNoLeak(inline, value);
  });

  it("exits 2 when stdin is empty", async () => {
    const run = await w.cli(["--secret"], { stdin: "" });
    expect(run.code).toBe(2);
    expect(run.err).toContain("no secret value was given");
  });
});
