// An express app (or any request listener) on 127.0.0.1:0 for the duration of a test.
import { createServer, type RequestListener } from "node:http";
import { closeServer, listen } from "../../../core/runtime/index.ts";

export async function serve(handler: RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(handler);
  const port = await listen(server, 0, "127.0.0.1");
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      const closed = closeServer(server);
      server.closeAllConnections();
      await closed;
    },
  };
}
