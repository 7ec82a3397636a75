/**
 * The failure told when an app registration has no slot left for a new secret
 * and none the rules allow removing: it names each key and what is known of it,
 * and never asks a person to guess which one "nothing uses".
 */
import type { GraphApplication } from "../clients/graph.js";
import { parseMarker } from "./marker.js";
import type { KeyRecord } from "./records.js";

/**
 * No slot for a new secret and none the rules allow removing. The message
 * names each key and what is known of it; it never asks a person to guess
 * which one "nothing uses".
 */
export function slotFailure(
  app: GraphApplication,
  records: readonly KeyRecord[],
): { failed: string; instructions: string } {
  const byId = new Map(records.map((r) => [r.keyId, r]));
  const describe = (p: GraphApplication["passwordCredentials"][number]) => {
    const r = byId.get(p.keyId);
    const role =
      r === undefined
        ? parseMarker(p.displayName)
          ? "made by another watchdog installation: may be in the connector"
          : "not made by the watchdog: may be in the connector"
        : r.state === "installed"
          ? "in the Nylas connector"
          : r.state === "sent"
            ? "may be in the connector (an earlier update could not be confirmed)"
            : r.state === "superseded"
              ? "superseded: valid grants may still use it"
              : r.state;
    return `${p.keyId} ("${p.displayName ?? "no name"}", ends ${p.endDateTime ?? "never"}; ${role})`;
  };
  const doubt = records.filter((r) => r.state === "sent" || r.state === "installed");
  const inDoubt = doubt.length > 1;
  return {
    failed: inDoubt
      ? `The app registration already holds the maximum number of client secrets, and the Nylas connector may hold either of ${doubt.map((r) => r.keyId).join(" or ")} (an earlier connector update could not be confirmed): neither may be removed.`
      : `The app registration already holds the maximum number of client secrets (apps open to personal Microsoft accounts may hold 2), and none of them is one the watchdog may remove.`,
    instructions: inDoubt
      ? `Find out which secret Nylas uses: in the Microsoft Entra admin center, Monitoring & health → Usage & insights → "Application credential activity" (Microsoft Learn: "Application credential activity report", https://learn.microsoft.com/en-us/entra/identity/monitoring-health/concept-usage-insights-report) lists each key's last sign-in; the key with sign-ins after the update is the one in the connector. Or grant the watchdog's identity AuditLog.Read.All so it settles this itself on the next pass. Secrets now: ${app.passwordCredentials.map(describe).join("; ")}.`
      : `In the Azure portal → App registrations → ${app.displayName ?? app.appId} → Certificates & secrets, the secrets are: ${app.passwordCredentials.map(describe).join("; ")}. Remove one only once you know no Nylas grant uses it (see "Application credential activity" in the Entra admin center, https://learn.microsoft.com/en-us/entra/identity/monitoring-health/concept-usage-insights-report). Then run 'watchdog run --force-rotate'.`,
  };
}
