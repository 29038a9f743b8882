/**
 * Live-update metrics, registered on the gateway's registry (served at /metrics with the rest).
 * Upstream requests the pollers send are counted by the SPP client's own metrics.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export class LiveMetrics {
  /** Open subscription connections, by transport (`ws`, `sse`, `multipart`). */
  readonly connections: Gauge<'transport'>;
  readonly subscriptions: Gauge;
  /** Pollers (feeds) running: one per identity and filter. */
  readonly pollers: Gauge;
  /** Polls by outcome, and by server when the gateway has several. */
  readonly polls: Counter<'outcome' | 'server'>;
  /** Events handed to subscribers (one per subscriber per event). */
  readonly eventsSent: Counter;
  readonly slowConsumerDisconnects: Counter;
  /** Subscriptions and connections refused by a limit, by limit. */
  readonly refused: Counter<'limit'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.connections = new Gauge({ name: 'live_connections', help: 'Open subscription connections.', labelNames: ['transport'], registers });
    this.subscriptions = new Gauge({ name: 'live_subscriptions', help: 'Active subscriptions.', registers });
    this.pollers = new Gauge({ name: 'live_pollers', help: 'SPP pollers running (one per identity and filter).', registers });
    this.polls = new Counter({ name: 'live_polls_total', help: 'Polls of SPP by the live pollers.', labelNames: ['outcome', 'server'], registers });
    this.eventsSent = new Counter({ name: 'live_events_sent_total', help: 'Subscription events sent to clients.', registers });
    this.slowConsumerDisconnects = new Counter({
      name: 'live_slow_consumer_disconnects_total',
      help: 'Connections closed because the client read too slowly.',
      registers,
    });
    this.refused = new Counter({ name: 'live_refused_total', help: 'Subscriptions or connections refused by a limit.', labelNames: ['limit'], registers });
  }
}
