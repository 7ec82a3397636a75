// The hand-written check ahead of zod must never accept what zod refuses, and must build
// exactly what the zod path builds: compared here on every single change and thousands of
// random pairs of changes to a Graph application answer.
import { describe, expect, it } from "vitest";
import { zodApplication, parseApplication } from "../../../lib/clients/graph-schemas.js";
import { quickApplication } from "../../../lib/clients/quick-application.js";
import { CREDENTIAL_SELECT, PASSWORD_SELECT } from "../../../lib/clients/graph-types.js";
import { DOCTOR_APP_SELECT } from "../../../lib/doctor/context.js";
import { compareWithZod, picker, seededRandom, type Tally } from "../../helpers/differential.js";

const compare = (raw: unknown, select: readonly string[], tally: Tally) =>
  compareWithZod(
    raw,
    (r) => quickApplication(r, select),
    (r) => zodApplication(r, select, "test"),
    tally,
  );

const SELECTS: readonly (readonly string[])[] = [
  PASSWORD_SELECT,
  CREDENTIAL_SELECT,
  ["id", "appId", "displayName"],
  ["id", "appId", "keyCredentials"],
  DOCTOR_APP_SELECT,
];

const password = (n: number) => ({
  customKeyIdentifier: null,
  displayName: `secret ${n}`,
  endDateTime: "2027-03-01T10:00:00Z",
  hint: "abc",
  keyId: `00000000-0000-0000-0000-00000000000${n}`,
  secretText: null,
  startDateTime: "2026-03-01T10:00:00Z",
});

const certificate = {
  customKeyIdentifier: "AB12",
  displayName: "CN=cert",
  endDateTime: "2027-05-01T00:00:00Z",
  key: null,
  keyId: "11111111-0000-0000-0000-000000000001",
  startDateTime: "2026-05-01T00:00:00Z",
  type: "AsymmetricX509Cert",
  usage: "Verify",
};

const BASES: Record<string, unknown>[] = [
  { id: "obj-1", appId: "app-1", displayName: "One", passwordCredentials: [password(1)] },
  {
    id: "obj-2",
    appId: "app-2",
    displayName: null,
    passwordCredentials: [password(1), password(2)],
    keyCredentials: [certificate],
    signInAudience: "AzureADMyOrg",
    "@odata.id": "https://graph.microsoft.com/v2/applications/obj-2",
  },
  { id: "obj-3", appId: "app-3", passwordCredentials: [], keyCredentials: [] },
];

const VALUES: unknown[] = [
  undefined,
  null,
  "",
  "x",
  0,
  1.5,
  true,
  [],
  {},
  "2027-01-01T00:00:00Z",
  "2027-02-30",
  "not a date",
  ["a"],
  [null],
  [{}],
  [password(3)],
  [{ ...password(4), endDateTime: "soon" }],
  [{ ...password(5), keyId: "" }],
  [certificate],
  { redirectUris: ["https://example.com/cb"] },
  { redirectUris: [1] },
  [{ resourceAppId: "r", resourceAccess: [{ id: "i", type: "Role" }] }],
];

/** Every place a change can go: the app's own fields and those of its first credentials. */
const PATHS: string[][] = [
  // Every property the schema knows (doctor selects them all), and one it does not.
  ...[...DOCTOR_APP_SELECT, "extra"].map((k) => [k]),
  ...["keyId", "displayName", "hint", "startDateTime", "endDateTime", "secretText"].map((k) => [
    "passwordCredentials",
    "0",
    k,
  ]),
  ...["keyId", "displayName", "startDateTime", "endDateTime", "type", "usage"].map((k) => [
    "keyCredentials",
    "0",
    k,
  ]),
];

function withChange(base: unknown, where: string[], value: unknown): unknown {
  const copy = structuredClone(base) as Record<string, unknown>;
  let at: Record<string, unknown> | undefined = copy;
  for (const step of where.slice(0, -1)) {
    const next: unknown = at?.[step];
    at = typeof next === "object" && next !== null ? (next as Record<string, unknown>) : undefined;
  }
  if (at === undefined) return copy;
  const last = where.at(-1) ?? "";
  if (value === undefined) delete at[last];
  else at[last] = structuredClone(value);
  return copy;
}

describe("quickApplication", () => {
  it("reads the common answers itself, exactly as zod does", () => {
    // (The first base has no keyCredentials: selected, they are required, so it goes to zod there.)
    const readable = [
      ...BASES.map((base) => [base, PASSWORD_SELECT] as const),
      ...BASES.slice(1).map((base) => [base, CREDENTIAL_SELECT] as const),
    ];
    for (const [base, select] of readable) {
      const quick = quickApplication(base, select);
      expect(quick).toBeDefined();
      expect(quick).toStrictEqual(zodApplication(base, select, "test"));
    }
    expect(quickApplication(BASES[0], CREDENTIAL_SELECT)).toBeUndefined();
    expect(() => zodApplication(BASES[0], CREDENTIAL_SELECT, "test")).toThrow(/keyCredentials/);
  });

  it("agrees with zod on every single change to an answer", () => {
    const tally = { quick: 0, zod: 0 };
    for (const select of SELECTS)
      for (const base of BASES)
        for (const where of PATHS)
          for (const value of VALUES) compare(withChange(base, where, value), select, tally);
    // Both sides are exercised: many changes stay readable, many are left to zod.
    expect(tally.quick).toBeGreaterThan(500);
    expect(tally.zod).toBeGreaterThan(500);
  });

  it("agrees with zod on random pairs of changes", () => {
    const pick = picker(seededRandom(20261201));
    const tally = { quick: 0, zod: 0 };
    for (let i = 0; i < 5000; i++) {
      const select = pick(SELECTS);
      const once = withChange(pick(BASES), pick(PATHS), pick(VALUES));
      compare(withChange(once, pick(PATHS), pick(VALUES)), select, tally);
    }
    expect(tally.quick).toBeGreaterThan(500);
    expect(tally.zod).toBeGreaterThan(500);
  });

  it("agrees with zod on an answer with a __proto__ key (JSON.parse makes it an own property)", () => {
    const tally = { quick: 0, zod: 0 };
    const raw: unknown = JSON.parse(
      '{"id":"o","appId":"a","passwordCredentials":[],"__proto__":{"polluted":1},"constructor":"x"}',
    );
    compare(raw, PASSWORD_SELECT, tally);
    expect(tally.zod).toBe(1);
  });

  it("leaves what it refuses to zod's worded error, and checks the app asked for", () => {
    const bad = withChange(BASES[0], ["passwordCredentials", "0", "endDateTime"], "soon");
    expect(() => parseApplication(bad, PASSWORD_SELECT, "listing applications")).toThrow(
      /passwordCredentials\.0\.endDateTime: not a parseable ISO 8601 date-time/,
    );
    expect(() => parseApplication(BASES[0], PASSWORD_SELECT, "reading app-9", "app-9")).toThrow(
      /describes application app-1, not app-9/,
    );
  });
});
