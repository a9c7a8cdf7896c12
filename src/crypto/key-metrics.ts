import { Counter, Gauge, type Registry } from 'prom-client';

const PREFIX = 'agentflow_gateway_';

/** The encrypting version and whether a rotation is overdue, read at each scrape. */
export interface EncryptVersionReading {
  version: number;
  overdue: boolean;
}

/** Metrics of the encryption API's keys: reloads, automatic rotations and the active version. */
export class CryptoKeyMetrics {
  readonly reloads: Counter<'outcome' | 'trigger'>;
  readonly rotations: Counter<'reason'>;
  readonly encryptVersion: Gauge;
  readonly rotationOverdue: Gauge;
  /** Read at each scrape; undefined while the API is off. */
  source: () => EncryptVersionReading | undefined = () => undefined;

  constructor(registry: Registry) {
    const registers = [registry];
    this.reloads = new Counter({
      name: `${PREFIX}crypto_key_reloads_total`,
      help:
        'Reloads of the crypto keys and callers, by outcome (applied, unchanged, rejected) ' +
        'and trigger.',
      labelNames: ['outcome', 'trigger'],
      registers,
    });
    this.rotations = new Counter({
      name: `${PREFIX}crypto_rotations_total`,
      help: 'Automatic moves of the crypto encrypting version, by reason (period, messages).',
      labelNames: ['reason'],
      registers,
    });
    const read = () => this.source();
    this.encryptVersion = new Gauge({
      name: `${PREFIX}crypto_encrypt_version`,
      help: 'Key version the crypto API encrypts with; 0 while the API is off.',
      registers,
      collect() {
        this.set(read()?.version ?? 0);
      },
    });
    this.rotationOverdue = new Gauge({
      name: `${PREFIX}crypto_rotation_overdue`,
      help: 'Whether automatic rotation is due to a key version that is not loaded (1) or not (0).',
      registers,
      collect() {
        this.set(read()?.overdue === true ? 1 : 0);
      },
    });
  }
}
