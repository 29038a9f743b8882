export declare const DIST: string;
/** Serves dist/ and config.json ({ gatewayUrl }) on its own port (another origin than the gateway). */
export declare function serveApp(options: {
  gatewayUrl: string;
  port?: number;
  host?: string;
  root?: string;
}): Promise<{ url: string; close(): Promise<void> }>;
