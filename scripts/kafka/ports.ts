import { createServer, type Server } from 'node:net';

export const LOOPBACK = '127.0.0.1';

/**
 * Ports handed out by this process. The kernel may offer a port again once
 * our probe socket is closed, and clusters started in parallel would then
 * collide before either JVM has bound it.
 */
const handedOut = new Set<number>();

/** Free loopback ports, found by letting the kernel pick (port 0) and releasing them. */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  const ports: number[] = [];
  try {
    while (ports.length < count) {
      const server = await listenOnRandomPort();
      servers.push(server);
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('Unexpected server address');
      if (!handedOut.has(address.port)) {
        handedOut.add(address.port);
        ports.push(address.port);
      }
    }
    return ports;
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

function listenOnRandomPort(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: LOOPBACK, port: 0, exclusive: true }, () => resolve(server));
  });
}
