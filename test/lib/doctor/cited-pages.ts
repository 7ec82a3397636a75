/**
 * The public pages doctor cites, as its `Source:` lines must name them: the
 * tests' own copy, so a changed title or URL in lib/doctor/sources.ts shows.
 */
export const PAGE = {
  forum45001:
    'Nylas forum: "Nylas Microsoft Provider, 45001 error code" (https://forums.nylas.com/t/nylas-microsoft-provider-45001-error-code/986)',
  renewSecret:
    'Nylas support: "How to Renew Microsoft Azure Client Secret for Your Nylas Application" (https://support.nylas.com/hc/en-us/articles/11833396105757-How-to-Renew-Microsoft-Azure-Client-Secret-for-Your-Nylas-Application)',
  createAzureApp:
    'Nylas docs: "Create an Azure auth app for Nylas v3" (https://developer.nylas.com/docs/dev-guide/provider-guides/microsoft/create-azure-app/)',
  authTroubleshooting:
    'Nylas docs: "Troubleshoot authentication errors" (https://developer.nylas.com/docs/v3/auth/troubleshooting/)',
  v2MicrosoftAuth:
    'Nylas v2 docs: "Microsoft Authentication" (https://developer.nylas.com/docs/developer-guide/provider-guides/microsoft/microsoft-authentication/)',
} as const;
