/** Hop-by-hop headers (RFC 9110, section 7.6.1) that a proxy must not forward. */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Prints the ready line that bench/processes.mjs waits for. */
export function onListening(server, name) {
  const { port } = server.address();
  console.log(JSON.stringify({ msg: `${name} listening`, url: `http://127.0.0.1:${port}` }));
}
