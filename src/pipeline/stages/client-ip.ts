import { CONTINUE, type Stage } from '../stage.js';

/**
 * Sets the client address. Until trusted proxies are configured, the socket peer is the client:
 * forwarding headers from the request are never believed.
 */
export function clientIpStage(): Stage {
  return {
    name: 'client_ip',
    run(context) {
      context.clientIp = context.peerAddress;
      return CONTINUE;
    },
  };
}

/** Writes IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) as IPv4 and drops zone ids. */
export function canonicalAddress(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  const withoutZone = address.split('%')[0]!;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(withoutZone);
  return mapped ? mapped[1]! : withoutZone;
}
