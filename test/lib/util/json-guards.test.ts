/**
 * isDateText recognises Graph's date form without parsing it (lib/util/json-guards.ts); for every
 * string it must answer exactly what `Date.parse` does, or a garbage date could read as
 * "never expires" (or a good one be refused).
 */
import { describe, expect, it } from "vitest";
import { isDateText } from "../../../lib/util/json-guards.js";
import { seededRandom } from "../../helpers/differential.js";

const parses = (s: string) => !Number.isNaN(Date.parse(s));
const two = (n: number) => String(n).padStart(2, "0");
/** The fast path's form (a copy, to count how many strings take it). */
const GRAPH_FORM =
  /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,7})?Z$/;

describe("isDateText", () => {
  it("answers as Date.parse for every day of every month, each hour, minute and second edge", () => {
    for (let month = 0; month <= 13; month++) {
      for (let day = 0; day <= 32; day++) {
        for (const time of ["00:00:00", "23:59:59", "24:00:00", "23:60:00", "23:59:60", "12:30:45"]) {
          for (const year of ["0000", "2027", "9999"]) {
            const text = `${year}-${two(month)}-${two(day)}T${time}Z`;
            expect(isDateText(text), text).toBe(parses(text));
          }
        }
      }
    }
  });

  it("answers as Date.parse on 20,000 seeded strings near Graph's form", () => {
    const random = seededRandom(20261202);
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
    const fractions = ["", ".", ".0", ".096", ".0960000", ".12345678", ".1234567"];
    const zones = ["Z", "", "+00:00", "z", " Z", "Z "];
    let graphForm = 0;
    for (let i = 0; i < 20_000; i++) {
      const digits = (n: number) => String(Math.floor(random() * 10 ** n)).padStart(n, "0");
      // Near Graph's form: mostly in range, the rest anything two digits can be.
      const inRange = (max: number, min = 0) => two(min + Math.floor(random() * (max - min + 1)));
      const field = (max: number, min = 0) => (random() < 0.85 ? inRange(max, min) : digits(2));
      const graph = () =>
        `${digits(4)}-${inRange(12, 1)}-${inRange(31, 1)}T${inRange(23)}:${inRange(59)}:${inRange(59)}` +
        `${pick(["", ".0", ".096", ".0960000", ".1234567"])}Z`;
      const near = () =>
        `${pick([digits(4), digits(3), digits(5), "+002027"])}-${field(12, 1)}-${field(31, 1)}` +
        `${pick(["T", "t", " "])}${field(23)}:${field(59)}:${field(59)}${pick(fractions)}${pick(zones)}`;
      const text = random() < 0.4 ? graph() : near();
      if (GRAPH_FORM.test(text)) graphForm++;
      expect(isDateText(text), text).toBe(parses(text));
    }
    // Enough of them in Graph's own form to exercise the fast path, and enough not.
    expect(graphForm).toBeGreaterThan(5_000);
    expect(graphForm).toBeLessThan(15_000);
  });

  it("reads what Graph writes, refuses what is no date, and is false for what is no string", () => {
    expect(isDateText("2027-05-31T09:47:43.0960000Z")).toBe(true);
    expect(isDateText("2027-05-31T09:47:43Z")).toBe(true);
    expect(isDateText("2027-05-31")).toBe(true);
    expect(isDateText("not a date")).toBe(false);
    expect(isDateText("2027-13-01T00:00:00Z")).toBe(false);
    expect(isDateText("")).toBe(false);
    expect(isDateText(null)).toBe(false);
    expect(isDateText(1798761600000)).toBe(false);
  });
});
