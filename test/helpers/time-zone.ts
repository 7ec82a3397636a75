/**
 * Runs `fn` with the process in another time zone, then puts the zone back. Node reads TZ again
 * whenever it changes, so the dates `fn` makes are local to `zone`.
 */
export function inTimeZone<T>(zone: string, fn: () => T): T {
  const before = process.env["TZ"];
  process.env["TZ"] = zone;
  try {
    return fn();
  } finally {
    if (before === undefined) delete process.env["TZ"];
    else process.env["TZ"] = before;
  }
}
