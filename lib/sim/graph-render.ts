/**
 * How Graph serialises the directory objects the simulator holds: property
 * by property, so `$select` costs only the selected properties even when a
 * page holds 999 applications. Secrets never leave here: `secretText` is
 * always null, as Graph returns it after creation.
 */
import type {
  SimApp,
  SimKeyCredential,
  SimOAuth2PermissionGrant,
  SimPassword,
  SimServicePrincipal,
} from "./tenant.js";

/** Renders one property of an object. */
export type Renderer<T> = (item: T) => unknown;

function renderPassword(p: SimPassword): Record<string, unknown> {
  return {
    customKeyIdentifier: p.customKeyIdentifier,
    displayName: p.displayName,
    endDateTime: p.endDateTime,
    hint: p.hint,
    keyId: p.keyId,
    // Graph never returns a secret after creation: the property is there, and null.
    secretText: null,
    startDateTime: p.startDateTime,
  };
}

function renderKey(k: SimKeyCredential): Record<string, unknown> {
  return {
    customKeyIdentifier: k.customKeyIdentifier,
    displayName: k.displayName,
    endDateTime: k.endDateTime,
    key: null,
    keyId: k.keyId,
    startDateTime: k.startDateTime,
    type: k.type,
    usage: k.usage,
  };
}

/** Application properties in Graph's order; the keys are what `$select` accepts. */
export const APP_PROPERTIES: Record<string, Renderer<SimApp>> = {
  id: (a) => a.id,
  deletedDateTime: () => null,
  appId: (a) => a.appId,
  applicationTemplateId: () => null,
  createdDateTime: (a) => a.createdDateTime,
  description: () => null,
  displayName: (a) => a.displayName,
  identifierUris: () => [],
  isFallbackPublicClient: () => null,
  notes: () => null,
  publisherDomain: () => null,
  signInAudience: (a) => a.signInAudience,
  tags: () => [],
  keyCredentials: (a) => a.keyCredentials.map(renderKey),
  passwordCredentials: (a) => a.passwordCredentials.map(renderPassword),
  publicClient: (a) => ({ redirectUris: [...a.publicClient.redirectUris] }),
  requiredResourceAccess: (a) =>
    a.requiredResourceAccess.map((r) => ({
      resourceAppId: r.resourceAppId,
      resourceAccess: r.resourceAccess.map((x) => ({ id: x.id, type: x.type })),
    })),
  spa: (a) => ({ redirectUris: [...a.spa.redirectUris] }),
  web: (a) => ({
    homePageUrl: null,
    logoutUrl: null,
    redirectUris: [...a.web.redirectUris],
    implicitGrantSettings: { enableAccessTokenIssuance: false, enableIdTokenIssuance: false },
    redirectUriSettings: a.web.redirectUris.map((uri) => ({ uri, index: null })),
  }),
};

/** Service principal properties; the keys are what `$select` accepts. */
export const SP_PROPERTIES: Record<string, Renderer<SimServicePrincipal>> = {
  id: (s) => s.id,
  deletedDateTime: () => null,
  accountEnabled: (s) => s.accountEnabled,
  appDisplayName: (s) => s.displayName,
  appId: (s) => s.appId,
  appOwnerOrganizationId: (s) => s.appOwnerOrganizationId,
  appRoleAssignmentRequired: () => false,
  displayName: (s) => s.displayName,
  servicePrincipalNames: (s) => [s.appId],
  servicePrincipalType: (s) => s.servicePrincipalType,
  signInAudience: () => "AzureADMultipleOrgs",
  tags: () => [],
  appRoles: (s) =>
    s.appRoles.map((r) => ({
      allowedMemberTypes: ["Application"],
      description: r.value,
      displayName: r.value,
      id: r.id,
      isEnabled: true,
      origin: "Application",
      value: r.value,
    })),
  keyCredentials: () => [],
  oauth2PermissionScopes: (s) =>
    s.oauth2PermissionScopes.map((p) => ({
      adminConsentDescription: p.value,
      adminConsentDisplayName: p.value,
      id: p.id,
      isEnabled: true,
      type: p.type,
      userConsentDescription: p.value,
      userConsentDisplayName: p.value,
      value: p.value,
    })),
  passwordCredentials: () => [],
  replyUrls: () => [],
};

/** oAuth2PermissionGrant properties. */
export const GRANT_PROPERTIES: Record<string, Renderer<SimOAuth2PermissionGrant>> = {
  id: (g) => g.id,
  clientId: (g) => g.clientId,
  consentType: (g) => g.consentType,
  principalId: (g) => g.principalId,
  resourceId: (g) => g.resourceId,
  scope: (g) => g.scope,
};

/** The selected properties of `item` (all of them without `$select`). */
export function render<T>(
  item: T,
  props: Record<string, Renderer<T>>,
  select: string[] | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of select ?? Object.keys(props)) {
    const r = props[name];
    if (r) out[name] = r(item);
  }
  return out;
}

/** The value `$filter` compares for an application property. */
export function appValue(a: SimApp, property: string): string {
  switch (property) {
    case "appId":
      return a.appId;
    case "id":
      return a.id;
    case "displayName":
      return a.displayName;
    case "signInAudience":
      return a.signInAudience;
    default:
      return "";
  }
}

/** The value `$filter` compares for a service principal property. */
export function spValue(s: SimServicePrincipal, property: string): string {
  switch (property) {
    case "appId":
      return s.appId;
    case "id":
      return s.id;
    case "displayName":
      return s.displayName;
    case "servicePrincipalType":
      return s.servicePrincipalType;
    default:
      return "";
  }
}

/** The value `$filter` compares for a consent property. */
export function grantValue(g: SimOAuth2PermissionGrant, property: string): string | null {
  switch (property) {
    case "clientId":
      return g.clientId;
    case "consentType":
      return g.consentType;
    case "principalId":
      return g.principalId;
    case "resourceId":
      return g.resourceId;
    case "id":
      return g.id;
    default:
      return null;
  }
}
