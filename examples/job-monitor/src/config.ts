/**
 * Where the gateway is: `config.json` next to the app (written by whoever serves it), else
 * localhost:4000. No credential: people sign in (./auth.ts) and the browser holds only the
 * gateway's HttpOnly session cookie, out of reach of the page's JavaScript.
 */
export interface AppConfig {
  gatewayUrl: string;
}

export async function loadConfig(): Promise<AppConfig> {
  try {
    const response = await fetch(new URL('config.json', document.baseURI));
    if (response.ok) {
      const config = (await response.json()) as Partial<AppConfig>;
      if (typeof config.gatewayUrl === 'string') return { gatewayUrl: config.gatewayUrl };
    }
  } catch {
    // No config.json: the default below.
  }
  return { gatewayUrl: 'http://localhost:4000/graphql' };
}
