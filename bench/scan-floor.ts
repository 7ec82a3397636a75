/**
 * The whole-process floor of `watchdog scan --json`: a bare Node script, no
 * SDK and nothing from lib/ but the CLI's V8 tiering setting (applied as the
 * CLI applies it: without it, a bare script waits at exit for V8 to optimize
 * undici's parser, a cost no Node process needs to pay), that gets one
 * client-credentials token, pages the same `/applications` ($select,
 * $top=999) and writes a JSON document of the same size to stdout, one line
 * per app as the scan does.
 *
 *   node dist/bench/scan-floor.js   (settings from the environment the product gets,
 *                                    plus BENCH_SELECT and BENCH_JSON_BYTES)
 *
 * Its count goes to stderr, as `scan: N app(s)`, for the bench to check.
 */
import { applyShortRunTiering } from "../lib/cli/v8-tiering.js";
import { jsonWriter, settingsOf } from "./floor-io.js";
import { pageApplicationsFloor } from "./floors.js";

const env = settingsOf("scan floor");

await applyShortRunTiering();

const out = jsonWriter(Number(env("BENCH_JSON_BYTES")));
const count = await pageApplicationsFloor({
  authorityHost: env("AZURE_AUTHORITY_HOST"),
  tenantId: env("AZURE_TENANT_ID"),
  clientId: env("AZURE_CLIENT_ID"),
  clientSecret: env("AZURE_CLIENT_SECRET"),
  graphEndpoint: env("GRAPH_ENDPOINT"),
  select: env("BENCH_SELECT").split(","),
  onPage: (apps) => {
    for (const app of apps) out.write(`${JSON.stringify(app)}\n`);
  },
});
out.end();
process.stderr.write(`scan: ${count} app(s)\n`);
