/**
 * Certificates for the simulator's HTTPS servers. The SDKs under test refuse
 * plain http (MSAL throws `authority_uri_insecure`, the Graph client only sends
 * its bearer token to https hosts), so the simulator is HTTPS, with a throwaway
 * CA generated at start: no private key is ever written to the repository.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { webcrypto } from "node:crypto";

/** PEM strings of a CA and of a leaf for 127.0.0.1/localhost signed by it. */
export interface SimulatorCertificates {
  caCertPem: string;
  certPem: string;
  keyPem: string;
}

// The library is typed against the DOM's Crypto, which this project's lib settings leave out;
// Node's webcrypto is that object at runtime.
const crypto = webcrypto;
const libCrypto = webcrypto as never;

const EC_KEY: webcrypto.EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };
const SIGNING: webcrypto.EcdsaParams = { name: "ECDSA", hash: "SHA-256" };

type MetadataMap = Map<unknown, unknown>;
type ReflectWithMetadata = typeof Reflect & {
  getMetadata?: (key: unknown, target: object, property?: string | symbol) => unknown;
  getOwnMetadata?: (key: unknown, target: object, property?: string | symbol) => unknown;
  defineMetadata?: (key: unknown, value: unknown, target: object, property?: string | symbol) => void;
};

/**
 * @peculiar/x509 depends on tsyringe, which refuses to load without the
 * `reflect-metadata` API (and that package is not installed). tsyringe only uses
 * get/getOwn/defineMetadata for constructor parameter types, so a WeakMap-backed
 * shim installed just before the first import is enough.
 */
function ensureReflectMetadata(): void {
  const r = Reflect as ReflectWithMetadata;
  if (typeof r.getMetadata === "function") return;
  const store = new WeakMap<object, Map<string | symbol | undefined, MetadataMap>>();
  const own = (target: object, property: string | symbol | undefined, create: boolean) => {
    let byProperty = store.get(target);
    if (!byProperty) {
      if (!create) return undefined;
      byProperty = new Map();
      store.set(target, byProperty);
    }
    let map = byProperty.get(property);
    if (!map && create) {
      map = new Map();
      byProperty.set(property, map);
    }
    return map;
  };
  r.defineMetadata = (key, value, target, property) => {
    own(target, property, true)?.set(key, value);
  };
  r.getOwnMetadata = (key, target, property) => own(target, property, false)?.get(key);
  r.getMetadata = (key, target, property) => {
    for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null) {
      const map = own(t, property, false);
      if (map?.has(key)) return map.get(key);
    }
    return undefined;
  };
}

async function loadX509(): Promise<typeof import("@peculiar/x509")> {
  ensureReflectMetadata();
  return import("@peculiar/x509");
}

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString("base64");
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

function randomSerial(): string {
  // Positive 16-byte serial (high bit clear), as RFC 5280 asks.
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString("hex");
}

/**
 * Generates a fresh ECDSA P-256 CA and a leaf certificate for `127.0.0.1` and
 * `localhost` (IP and DNS SANs). Takes ~10 ms; generate once per test file and
 * pass the result to every simulator started there.
 */
export async function createSimulatorCertificates(): Promise<SimulatorCertificates> {
  const x509 = await loadX509();
  const now = Date.now();
  // Backdated an hour so a test clock a little behind the wall clock still validates.
  const notBefore = new Date(now - 3_600_000);
  const notAfter = new Date(now + 30 * 86_400_000);

  const caKeys = await crypto.subtle.generateKey(EC_KEY, true, ["sign", "verify"]);
  const caCert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name: "CN=secret-watchdog simulator CA, O=secret-watchdog (test only)",
      notBefore,
      notAfter,
      signingAlgorithm: SIGNING,
      keys: caKeys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, libCrypto),
      ],
    },
    libCrypto,
  );

  const leafKeys = await crypto.subtle.generateKey(EC_KEY, true, ["sign", "verify"]);
  const leafCert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject: "CN=127.0.0.1",
      issuer: caCert.subject,
      notBefore,
      notAfter,
      signingAlgorithm: SIGNING,
      publicKey: leafKeys.publicKey,
      signingKey: caKeys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension(
          [
            { type: "ip", value: "127.0.0.1" },
            { type: "dns", value: "localhost" },
          ],
          false,
        ),
        await x509.SubjectKeyIdentifierExtension.create(leafKeys.publicKey, false, libCrypto),
        await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, libCrypto),
      ],
    },
    libCrypto,
  );

  const pkcs8 = await crypto.subtle.exportKey("pkcs8", leafKeys.privateKey);
  return {
    caCertPem: caCert.toString("pem") + "\n",
    certPem: leafCert.toString("pem") + "\n",
    keyPem: toPem(pkcs8, "PRIVATE KEY"),
  };
}

let shared: Promise<SimulatorCertificates> | undefined;

/**
 * Certificates generated once per process and reused by every simulator
 * started in it (test files run in their own processes, so each file pays
 * for one generation at most).
 */
export function sharedSimulatorCertificates(): Promise<SimulatorCertificates> {
  shared ??= createSimulatorCertificates();
  return shared;
}

const trusted = new Set<string>();

/**
 * Makes this process trust `caCertPem` for every TLS client created from now on:
 * global `fetch` (undici), `https.request` (MSAL inside @azure/identity) and
 * the `nylas` SDK (which uses `fetch`). The default store plus
 * NODE_EXTRA_CA_CERTS stay trusted. Needs Node >= 22.19 (`tls.setDefaultCACertificates`).
 */
export function trustCa(caCertPem: string): void {
  if (trusted.has(caCertPem)) return;
  const setDefault = (tls as { setDefaultCACertificates?: (certs: string[]) => void })
    .setDefaultCACertificates;
  if (typeof setDefault !== "function") {
    throw new Error(
      `tls.setDefaultCACertificates is missing in Node ${process.version}: run under Node >= 22.19 ` +
        "(npx uses the project's node), or start the process with NODE_EXTRA_CA_CERTS=<caFile>.",
    );
  }
  // "default" already holds the bundled roots and NODE_EXTRA_CA_CERTS, so it is the whole current set.
  const current = tls.getCACertificates("default");
  setDefault([...current, caCertPem]);
  trusted.add(caCertPem);
}

/**
 * Writes the CA to a temporary file, for child processes started with
 * `NODE_EXTRA_CA_CERTS=<file>`. The file holds only the public certificate.
 */
export function writeCaFile(caCertPem: string): string {
  const dir = mkdtempSync(join(tmpdir(), "watchdog-sim-ca-"));
  const file = join(dir, "ca.pem");
  writeFileSync(file, caCertPem, { mode: 0o644 });
  return file;
}
