/**
 * What an app registration asks for (`requiredResourceAccess`), by name: Graph
 * stores permission ids, which the resource's service principal
 * (`oauth2PermissionScopes`, `appRoles`) turns back into names.
 */
import type { GraphApplication } from "../clients/graph.js";
import type { DoctorContext } from "./context.js";
import { KNOWN_SCOPE_IDS } from "../microsoft/identifiers.js";

export interface RequestedPermission {
  resourceAppId: string;
  id: string;
  /** "Scope" (delegated) or "Role" (application). */
  type: string;
  /** Undefined when the id could not be resolved. */
  name: string | undefined;
}

export async function requestedPermissions(
  ctx: DoctorContext,
  app: GraphApplication,
): Promise<RequestedPermission[]> {
  const out: RequestedPermission[] = [];
  for (const resource of app.requiredResourceAccess ?? []) {
    let names = new Map<string, string>();
    try {
      const sp = (await ctx.servicePrincipal(resource.resourceAppId)) as
        | {
            oauth2PermissionScopes?: { id: string; value: string }[];
            appRoles?: { id: string; value: string | null }[];
          }
        | undefined;
      names = new Map([
        ...(sp?.oauth2PermissionScopes ?? []).map((s) => [`Scope:${s.id.toLowerCase()}`, s.value] as const),
        ...(sp?.appRoles ?? [])
          .filter((r) => r.value !== null)
          .map((r) => [`Role:${r.id.toLowerCase()}`, r.value!] as const),
      ]);
    } catch {
      // Unreadable resource: fall back to the ids Microsoft publishes.
    }
    for (const access of resource.resourceAccess) {
      const id = access.id.toLowerCase();
      out.push({
        resourceAppId: resource.resourceAppId,
        id: access.id,
        type: access.type,
        name:
          names.get(`${access.type}:${id}`) ?? (access.type === "Scope" ? KNOWN_SCOPE_IDS[id] : undefined),
      });
    }
  }
  return out;
}
