/**
 * Where the gateway is and how to authenticate: `config.json` next to the app (written by whoever
 * serves it), else localhost:4000 without a token. A real deployment would get the token from
 * its sign-in (e.g. the gateway's createSession in pass-through mode); the example keeps it simple.
 */
export interface AppConfig {
  gatewayUrl: string;
  /** Sent as `Authorization: Bearer` on HTTP and in graphql-ws's connection_init. */
  token?: string;
}

export async function loadConfig(): Promise<AppConfig> {
  try {
    const response = await fetch(new URL('config.json', document.baseURI));
    if (response.ok) {
      const config = (await response.json()) as Partial<AppConfig>;
      if (typeof config.gatewayUrl === 'string') return { gatewayUrl: config.gatewayUrl, ...(typeof config.token === 'string' ? { token: config.token } : {}) };
    }
  } catch {
    // No config.json: the default below.
  }
  return { gatewayUrl: 'http://localhost:4000/graphql' };
}
