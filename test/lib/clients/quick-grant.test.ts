// The hand-written grant check ahead of zod must never accept what zod refuses, and must build
// exactly the grant the zod path builds: compared on every single change and random pairs.
import { describe, expect, it } from "vitest";
import { parseWireGrant, quickWireGrant, zodWireGrant } from "../../../lib/clients/nylas-schemas.js";
import { compareWithZod, picker, seededRandom, type Tally } from "../../helpers/differential.js";

const BASES: Record<string, unknown>[] = [
  {
    id: "b1d2c3e4-0000-4000-8000-000000000001",
    provider: "microsoft",
    grant_status: "valid",
    email: "ada@contoso.com",
    scope: ["Mail.Read", "offline_access"],
    created_at: 1764000000,
    updated_at: 1764500000,
    credential_id: "cred_1",
    settings: {},
    ip: "10.0.0.1",
  },
  { id: "g_2", provider: "google", created_at: 1764000000 },
];

const VALUES: unknown[] = [
  undefined,
  null,
  "",
  "valid",
  "grant/../x",
  "a".repeat(257),
  0,
  -1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  true,
  [],
  ["Mail.Read"],
  ["Mail.Read", 3],
  [null],
  {},
  { nested: 1 },
];

const FIELDS = [
  "id",
  "provider",
  "grant_status",
  "email",
  "scope",
  "created_at",
  "updated_at",
  "credential_id",
  "extra",
];

function withChange(base: Record<string, unknown>, field: string, value: unknown): Record<string, unknown> {
  const copy = { ...base };
  if (value === undefined) delete copy[field];
  else copy[field] = value;
  return copy;
}

const compare = (raw: unknown, tally: Tally) =>
  compareWithZod(raw, quickWireGrant, (r) => zodWireGrant(r, "test"), tally);

describe("quickWireGrant", () => {
  it("reads the common grants itself, exactly as zod does", () => {
    for (const base of BASES) {
      const quick = quickWireGrant(base);
      expect(quick).toBeDefined();
      expect(quick).toStrictEqual(zodWireGrant(base, "test"));
    }
  });

  it("agrees with zod on every single change, and on random pairs of changes", () => {
    const tally = { quick: 0, zod: 0 };
    for (const base of BASES)
      for (const field of FIELDS) for (const value of VALUES) compare(withChange(base, field, value), tally);
    const pick = picker(seededRandom(20261201));
    for (let i = 0; i < 3000; i++) {
      const once = withChange(pick(BASES), pick(FIELDS), pick(VALUES));
      compare(withChange(once, pick(FIELDS), pick(VALUES)), tally);
    }
    expect(tally.quick).toBeGreaterThan(300);
    expect(tally.zod).toBeGreaterThan(300);
  });

  it("leaves what it refuses to zod's worded error", () => {
    expect(() => parseWireGrant({ ...BASES[0], created_at: "yesterday" }, "listing grants")).toThrow(
      /created_at: Invalid input: expected number, received string/,
    );
    expect(quickWireGrant({ ...BASES[1], grant_status: undefined })?.grantStatus).toBe("unknown");
  });
});
