/** The request that sets the connector's scope list (scope is top-level: settings stay untouched). */
export function connectorScopePatch(apiUri: string, scope: string[]): string {
  return (
    `Set the connector's scopes: curl -X PATCH ${apiUri}/v3/connectors/microsoft -H "Authorization: Bearer $NYLAS_API_KEY" ` +
    `-H "Content-Type: application/json" -d '${JSON.stringify({ scope })}' — then users re-authenticate to get them (see grants.scopes).`
  );
}
