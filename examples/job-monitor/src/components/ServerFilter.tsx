import type { SppServerInfo } from '../servers';

/**
 * A list screen's server filter (several servers only): a group named "Server" with one box per
 * server, every box ticked while `chosen` is empty (all servers). Unticking one leaves the others
 * chosen; the last ticked server stays, since a list of no server would be no list.
 */
export function ServerFilter({ servers, chosen, onChange }: { servers: SppServerInfo[]; chosen: string[]; onChange: (next: string[]) => void }) {
  const ticked = (name: string) => chosen.length === 0 || chosen.includes(name);
  const toggle = (name: string) => {
    const current = chosen.length ? chosen : servers.map((s) => s.name);
    const next = current.includes(name) ? current.filter((n) => n !== name) : [...current, name];
    onChange(next.length === servers.length ? [] : next);
  };
  return (
    <fieldset data-testid="server-filter">
      <legend>Server</legend>
      {servers.map((server) => (
        <label key={server.name}>
          <input
            type="checkbox"
            name="server"
            value={server.name}
            checked={ticked(server.name)}
            disabled={chosen.length === 1 && chosen[0] === server.name}
            onChange={() => toggle(server.name)}
          />
          {server.name}
        </label>
      ))}
    </fieldset>
  );
}
