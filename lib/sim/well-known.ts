/**
 * First-party service principals every Entra tenant has, with their real ids:
 * code that resolves scope names to ids (or checks requiredResourceAccess)
 * must meet the same GUIDs as in production. Ids come from Microsoft's
 * published permission id list (microsoft-graph-docs, permissions-ids.md);
 * the one that could not be confirmed is marked.
 */

/** Microsoft Graph's appId, the same in every tenant. */
export const GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";
/** Office 365 Exchange Online's appId. */
export const EXCHANGE_APP_ID = "00000002-0000-0ff1-ce00-000000000000";

/** Delegated permission scopes of Microsoft Graph (value → id). */
export const GRAPH_SCOPES: Readonly<Record<string, string>> = {
  offline_access: "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
  openid: "37f7f235-527c-4136-accd-4a02d197296e",
  profile: "14dad69e-099b-42c9-810b-d002981feec1",
  email: "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0",
  "User.Read": "e1fe6dd8-ba31-4d61-89e7-88639da4683d",
  "Mail.Read": "570282fd-fa5c-430d-a7fd-fc8dc98a9dca",
  "Mail.ReadWrite": "024d486e-b451-40bb-833d-3e66d98c5c73",
  "Mail.Send": "e383f46e-2787-4529-855e-0e479a3ffac0",
  "Calendars.Read": "465a38f9-76ea-45b9-9f34-9e8b0d4b0b42",
  "Calendars.ReadWrite": "1ec239c2-d7c9-4623-a91a-a9775856bb36",
  "Contacts.Read": "ff74d97f-43af-4b68-9f2a-b77ee6968c5d",
  "Contacts.ReadWrite": "d56682ec-c09e-4743-aaf4-1a3aac4caa21",
  "OnlineMeetings.ReadWrite": "a65f2972-a4f8-4f5e-afd7-69ccb046d5dc",
  "EWS.AccessAsUser.All": "9769c687-087d-48ac-9cb3-c37dde652038",
  "EAS.AccessAsUser.All": "ff91d191-45a0-43fd-b837-bd682c4a0b0f",
};

/** Application permissions (app roles) of Microsoft Graph (value → id). */
export const GRAPH_APP_ROLES: Readonly<Record<string, string>> = {
  "Application.Read.All": "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
  "Application.ReadWrite.OwnedBy": "18a4783c-866b-4cc7-a460-3d5e5662c884",
  "Application.ReadWrite.All": "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
  "Directory.Read.All": "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
  "Directory.ReadWrite.All": "19dbc75e-c2e2-444c-a770-ec69d8559fc7",
  "Policy.Read.All": "246dd0d5-5bd0-4def-940b-0421030a5b68",
  "AuditLog.Read.All": "b0afded3-3588-46d8-8b3d-9842eff778da",
  "DelegatedPermissionGrant.ReadWrite.All": "8e8e4742-1d95-4f68-9d56-6ee75648c72a",
};

/** Delegated scopes of Office 365 Exchange Online (value → id). */
export const EXCHANGE_SCOPES: Readonly<Record<string, string>> = {
  "EWS.AccessAsUser.All": "3b5f3d61-589b-4a3c-a359-5dd4b5ee5bd5",
  // UNVERIFIED: the real id could not be confirmed; a stable made-up GUID.
  "EAS.AccessAsUser.All": "5a1f1c65-8a0e-4c1d-9d5e-7c3b5f0e2a11",
};
