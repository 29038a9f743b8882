import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { probeServers } from '../../src/http/readiness.js';

const dir = mkdtempSync(join(tmpdir(), 'spp-servers-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('SPP_SERVERS_FILE', () => {
  it('reads a YAML list of servers, passwords from the variables they name, and decides service-account mode', () => {
    const path = file(
      'sites.yaml',
      `- name: fra\n  url: https://spp-fra.example.com/api\n  username: svc\n  passwordEnv: PW_FRA\n  labels: { region: eu }\n- name: dal\n  url: https://spp-dal.example.com\n  username: svc\n  passwordEnv: PW_DAL\n  tlsInsecure: true\n`,
    );
    const config = loadConfig({ SPP_SERVERS_FILE: path, PW_FRA: 'secret-fra', PW_DAL: 'secret-dal', GATEWAY_TOKENS: 'token-token-token-token' });
    expect(config.servers).toEqual([
      { name: 'fra', url: 'https://spp-fra.example.com', username: 'svc', password: 'secret-fra', tlsInsecure: false, labels: { region: 'eu' } },
      { name: 'dal', url: 'https://spp-dal.example.com', username: 'svc', password: 'secret-dal', tlsInsecure: true, labels: {} },
    ]);
    expect(config.auth.mode).toBe('service-account');
  });

  it('reads JSON too, and servers without usernames mean pass-through', () => {
    const path = file(
      'sites.json',
      JSON.stringify([
        { name: 'a', url: 'http://127.0.0.1:1' },
        { name: 'b', url: 'http://127.0.0.1:2' },
      ]),
    );
    expect(loadConfig({ SPP_SERVERS_FILE: path }).auth).toEqual({ mode: 'pass-through' });
  });

  it.each([
    ['not a list', '{ name: a }', 'expected a non-empty list'],
    ['a bad name', '- { name: "a b", url: "http://x.example" }', 'entry 1 field name'],
    ['a name used twice', '- { name: a, url: "http://x.example" }\n- { name: a, url: "http://y.example" }', 'used twice'],
    ['a username without passwordEnv', '- { name: a, url: "http://x.example", username: u }', 'username needs passwordEnv'],
    ['an unset passwordEnv', '- { name: a, url: "http://x.example", username: u, passwordEnv: NOT_SET_ANYWHERE }', 'NOT_SET_ANYWHERE (passwordEnv) is not set'],
    ['a password in the file', '- { name: a, url: "http://x.example", password: p }', 'entry 1'],
    [
      'a mix of modes',
      '- { name: a, url: "http://x.example", username: u, passwordEnv: PW }\n- { name: b, url: "http://y.example" }',
      'every server a username',
    ],
  ])('is refused with a ConfigError naming what is wrong: %s', (_what, text, message) => {
    const path = file(`bad-${Math.random()}.yaml`, text);
    expect(() => loadConfig({ SPP_SERVERS_FILE: path, PW: 'x', GATEWAY_TOKENS: 'token-token-token-token' })).toThrow(ConfigError);
    expect(() => loadConfig({ SPP_SERVERS_FILE: path, PW: 'x', GATEWAY_TOKENS: 'token-token-token-token' })).toThrow(message);
  });

  it('cannot be combined with SPP_URL', () => {
    const path = file('one.yaml', '- { name: a, url: "http://x.example" }');
    expect(() => loadConfig({ SPP_SERVERS_FILE: path, SPP_URL: 'http://y.example' })).toThrow('set either SPP_SERVERS_FILE or SPP_URL');
  });
});

describe('readiness over several servers', () => {
  const up = { name: 'up', probe: () => Promise.resolve() };
  const down = { name: 'down', probe: () => Promise.reject(new Error('down is down')) };
  it('is ready with any server answering under "any", and needs every one under "all"', async () => {
    await expect(probeServers([up, down], 'any')()).resolves.toBeUndefined();
    await expect(probeServers([up, down], 'all')()).rejects.toThrow('down is down');
    await expect(probeServers([down, down], 'any')()).rejects.toThrow('down is down');
    await expect(probeServers([up, up], 'all')()).resolves.toBeUndefined();
  });
});
