/** Network helpers for tests that start servers on the loopback interface. */
import { createServer, type Server } from "node:net";

/**
 * Starts `server` listening on 127.0.0.1 (port 0: one the kernel picks) and resolves with the
 * port it got.
 */
export function listen(server: Pick<Server, "listen" | "address">, port = 0): Promise<number> {
  return new Promise((resolve) => {
    server.listen(port, "127.0.0.1", () => {
      const a = server.address();
      resolve(typeof a === "object" && a ? a.port : 0);
    });
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago (bound, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}
