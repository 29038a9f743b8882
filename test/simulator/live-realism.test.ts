import { describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.js';

const NOW = Date.UTC(2024, 5, 30, 12, 0, 0);

describe('live mode realism (what live subscriptions diff on)', () => {
  it('stamps lastUpdate forward at every change of a session, even when the clock has not moved, and only then', async () => {
    const t = NOW;
    const sim = await startSimulator({ now: NOW, clock: () => t, size: 300 });
    try {
      const { inserted } = sim.step({ insert: 3 });
      let previous = new Map(sim.list().map((s) => [s.id, s]));
      for (let i = 0; i < 8; i++) {
        sim.step({ insert: 0 });
        for (const session of sim.list()) {
          const before = previous.get(session.id)!;
          const changed = before.status !== session.status || before.percent !== session.percent;
          if (changed) expect(session.lastUpdate!).toBeGreaterThan(before.lastUpdate!);
          else expect(session).toBe(before);
        }
        previous = new Map(sim.list().map((s) => [s.id, s]));
      }
      // The sessions started by the steps ran and finished: percent climbs to 100, status ends final, end = lastUpdate.
      for (const id of inserted) {
        const done = sim.get(id)!;
        expect(['COMPLETED', 'PARTIAL', 'FAILED']).toContain(done.status);
        expect(done).toMatchObject({ percent: 100, end: done.lastUpdate, duration: done.lastUpdate! - done.start });
      }
    } finally {
      await sim.close();
    }
  });
});
