// A free TCP port on 127.0.0.1 for a server started next (bench/peers/check.mjs and the
// benchmark smoke test start peers on one).
import net from 'node:net';

export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}
