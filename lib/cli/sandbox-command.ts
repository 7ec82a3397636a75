import type { Command } from "./main.js";

export const sandboxCommand: Command = {
  name: "sandbox",
  summary: "the whole story on a simulated tenant (what `npm start` runs)",
  usage: "sandbox [--verbose]",
  help: `
Starts the built-in simulator — Entra ID, Microsoft Graph, Nylas v3 and four
alert sinks as HTTPS servers on 127.0.0.1 — and runs the real code against
it: a scan, a grant that breaks and the alerts it raises, a rotation with its
propagation wait (it pages nobody), users moving to the new secret, the
migration paging once it turns critical, retirement, doctor on a healthy and a
broken tenant, and health finding a timer that stopped (503, watchdog.stale).
Alerts are grouped per incident in a stable order, so two runs differ only in
ids, ports and dates. Time is simulated; nothing leaves this machine.

--verbose also shows the product's own log lines.

Needs the development dependencies (run it from a clone after npm ci).`,
  options: {},
  async run({ io, values, loadTriggers }) {
    // The simulator needs devDependencies (certificate generation): load on demand.
    const [{ runSandbox }, { doctorChapter }, triggers] = await Promise.all([
      import("../sandbox/story.js"),
      import("../sandbox/doctor-chapter.js"),
      loadTriggers(),
    ]);
    return runSandbox(io, { verbose: values.verbose === true, triggers, chapters: [doctorChapter] });
  },
};
