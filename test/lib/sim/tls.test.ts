import { afterAll, beforeAll, describe, expect, it } from "vitest";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import NylasImport from "nylas";
import {
  createSimulatorCertificates,
  trustCa,
  writeCaFile,
  type SimulatorCertificates,
} from "../../../lib/sim/tls.js";

// nylas ships ESM code but CJS-flavoured types: at runtime the default import is the class.
const Nylas = ((NylasImport as unknown as { default?: unknown }).default ??
  NylasImport) as typeof NylasImport.default;

let certs: SimulatorCertificates;
let server: https.Server;
let base: string;

beforeAll(async () => {
  certs = await createSimulatorCertificates();
  server = https.createServer({ cert: certs.certPem, key: certs.keyPem }, (req, res) => {
    res.writeHead(200, { "content-type": "application/json", "x-request-id": "r1" });
    res.end(JSON.stringify({ request_id: "r1", data: { path: req.url } }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function httpsGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    https
      .get(url, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on("error", reject);
  });
}

describe("simulator TLS", () => {
  it("is rejected before the CA is trusted and accepted after, by fetch, https and the nylas SDK", async () => {
    await expect(fetch(`${base}/x`)).rejects.toThrow();
    await expect(httpsGet(`${base}/x`)).rejects.toThrow();

    trustCa(certs.caCertPem);

    expect((await fetch(`${base}/x`)).status).toBe(200);
    expect(await httpsGet(`${base}/x`)).toBe(200);
    expect(await httpsGet(`https://localhost:${new URL(base).port}/x`)).toBe(200);
    const nylas = new Nylas({ apiKey: "k", apiUri: base });
    const found = await nylas.grants.find({ grantId: "g1" });
    expect(found.requestId).toBe("r1");
  });

  it("keeps trusting earlier CAs when another one is added", async () => {
    const second = await createSimulatorCertificates();
    const other = https.createServer({ cert: second.certPem, key: second.keyPem }, (_req, res) =>
      res.end("ok"),
    );
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    try {
      trustCa(second.caCertPem);
      const otherUrl = `https://127.0.0.1:${(other.address() as AddressInfo).port}/`;
      expect((await fetch(otherUrl)).status).toBe(200);
      expect(await httpsGet(`${base}/x`)).toBe(200);
    } finally {
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });

  it("writes the CA (and only the CA) to a file for NODE_EXTRA_CA_CERTS", () => {
    const file = writeCaFile(certs.caCertPem);
    const text = readFileSync(file, "utf8");
    expect(text).toBe(certs.caCertPem);
    expect(text).not.toContain("PRIVATE KEY");
  });
});
