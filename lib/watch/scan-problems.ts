/**
 * The problems a scan reports instead of credentials: the connector names no
 * app registration, or an app to watch cannot be read. Each says what to do.
 */
import type { MicrosoftConnector } from "../clients/nylas.js";
import { MALFORMED } from "../clients/answer.js";
import type { HttpError } from "../errors.js";

export interface ScanProblem {
  code: string;
  message: string;
  fix: string;
  /** The app the problem is about, when it is about one. */
  appId?: string;
}

/** Why the connector names no app registration to read, if it does not. */
export function connectorProblem(
  connector: MicrosoftConnector | null,
  connectorAppId: string | undefined,
): ScanProblem | undefined {
  if (connector === null)
    return {
      code: "connector.missing",
      message: "The Nylas application has no Microsoft connector, so there is no app registration to rotate.",
      fix: "Create the Microsoft connector (POST /v3/connectors with provider 'microsoft', client_id, client_secret, tenant), or check NYLAS_API_KEY is for the right application.",
    };
  if (connectorAppId === undefined)
    return {
      code: "connector.no-client-id",
      message: "The Nylas Microsoft connector has no client_id.",
      fix: "Set the connector's settings.client_id to the Azure app registration's Application (client) ID.",
    };
  return undefined;
}

export function connectorAppNotFound(connectorAppId: string, tenant: string | undefined): ScanProblem {
  return {
    code: "connector.app-not-found",
    message: `The connector's client_id ${connectorAppId} is not an app registration in tenant ${tenant ?? "(unknown)"} as seen by the watchdog (AADSTS700016-style: wrong tenant or client id).`,
    fix: "Set AZURE_TENANT_ID to the tenant that owns the app registration, and check the connector's client_id; the watchdog's identity must be able to read it (Application.ReadWrite.OwnedBy + owner).",
  };
}

export function watchedReadProblem(appId: string, error: HttpError | undefined): ScanProblem {
  if (error === undefined)
    return {
      code: "watch.app-not-found",
      message: `WATCH_APP_IDS lists ${appId}, which the watchdog cannot find in the tenant.`,
      fix: "Remove it from WATCH_APP_IDS, or give the watchdog's identity read access to it (Application.Read.All, or make it an owner).",
    };
  return {
    code: "watch.unreadable",
    appId,
    message: `WATCH_APP_IDS lists ${appId}, which could not be read (${error.statusCode}${error.code ? ` ${error.code}` : ""}): its secrets are not watched this pass.`,
    fix: fixOf(error),
  };
}

function fixOf(error: HttpError): string {
  if (error.statusCode === 403)
    return "Give the watchdog's identity read access to it: Application.Read.All, or make it an owner of the app registration.";
  // A malformed answer (a credential without keyId or end date, a null list): nothing was concluded from it.
  if (error.code === MALFORMED)
    return "Graph's answer for it could not be trusted, so its secrets were not judged; the next pass reads it again. If it persists, check it in the Azure portal (App registrations → Certificates & secrets) and check GRAPH_ENDPOINT.";
  return "Graph refused or throttled the read; the next pass tries again. If it persists, check the app id and the identity's access.";
}
