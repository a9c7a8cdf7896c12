// Profiles the gateway under passthrough load with `node --cpu-prof`.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { measure } from './suite.mjs';

/**
 * Runs the catch-all gateway on a minimal upstream under --cpu-prof, with warm-up and timed load,
 * and returns the measured row and the path of the profile the gateway wrote on exit. The
 * profile also covers start-up and warm-up.
 */
export async function runProfile(context, { profileDir, logLevel }) {
  const { process: upstream, url: upstreamUrl } = await context.startMinimalUpstream();
  const { process: gateway, url } = await context.startGateway({
    name: 'gateway-profiled',
    upstreamUrl,
    policies: 'catch-all',
    logLevel,
    nodeOptions: ['--cpu-prof', '--cpu-prof-dir', profileDir],
  });
  const row = await measure(context, {
    setup: `gateway under --cpu-prof, catch-all route, log level ${logLevel}`,
    upstreamName: 'minimal',
    url,
    proxy: gateway,
    upstream,
  });
  // V8 writes the profile when the process exits normally, which the gateway does on SIGTERM.
  await gateway.stop();
  await upstream.stop();
  const files = readdirSync(profileDir).filter((name) => name.endsWith('.cpuprofile'));
  if (files.length !== 1) {
    throw new Error(`expected one .cpuprofile in ${profileDir}, found ${files.length}`);
  }
  return { row, file: path.join(profileDir, files[0]) };
}
