/**
 * Preloaded into each whole-process child (`node --import rss-probe.js …`):
 * at exit it writes the process's peak RSS to BENCH_RSS_FILE, so a figure can
 * run the real `dist/cli/watchdog.js` unchanged and still know its memory.
 * Both sides of a figure load it, so its own cost (well under a millisecond)
 * cancels out.
 */
import { writeFileSync } from "node:fs";

const file = process.env.BENCH_RSS_FILE;
if (file !== undefined && file !== "") {
  process.once("exit", () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
}
