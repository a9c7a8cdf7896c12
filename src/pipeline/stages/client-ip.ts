import { compileClientIpSettings, type ClientIpSettings } from '../../net/client-ip-settings.js';
import { resolveClientIp } from '../../net/resolve-client-ip.js';
import { CONTINUE, type Stage } from '../stage.js';

/**
 * Sets the client address. Forwarding headers are believed only when the socket peer is a
 * configured trusted proxy; otherwise the socket peer is the client.
 */
export function clientIpStage(settings: ClientIpSettings): Stage {
  const compiled = compileClientIpSettings(settings);
  return {
    name: 'client_ip',
    run(context) {
      const resolution = resolveClientIp(
        { remoteAddress: context.socket.remoteAddress, rawHeaders: context.req.rawHeaders },
        compiled,
      );
      context.clientIp = resolution.clientIp;
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
