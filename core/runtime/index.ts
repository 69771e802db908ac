import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Logger } from "pino";

// One way for every role to stop: on SIGTERM/SIGINT stop accepting work, let in-flight work finish
// within a bound, then close connections (in reverse order of opening) and exit.

type Closer = { name: string; close: () => Promise<unknown> | unknown };

export class RoleLifecycle {
  private closers: Closer[] = [];
  private stopping: Promise<void> | null = null;

  constructor(private readonly role: string, private readonly logger: Logger, private readonly boundMs = 15_000) {}

  /** Register something to close at shutdown; closed in reverse registration order. */
  onShutdown(name: string, close: Closer["close"]): void {
    this.closers.push({ name, close });
  }

  listenSignals(): void {
    const handler = (signal: NodeJS.Signals) => {
      this.logger.info({ signal }, `${this.role}: shutting down`);
      void this.shutdown().then(() => process.exit(0));
    };
    process.once("SIGTERM", handler);
    process.once("SIGINT", handler);
  }

  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      const timer = setTimeout(() => {
        this.logger.error(`${this.role}: shutdown exceeded ${this.boundMs} ms, exiting`);
        process.exit(1);
      }, this.boundMs);
      timer.unref();
      for (const c of [...this.closers].reverse()) {
        try {
          await c.close();
        } catch (e) {
          this.logger.warn({ err: e, closing: c.name }, `${this.role}: error while closing ${c.name}`);
        }
      }
      clearTimeout(timer);
    })();
    return this.stopping;
  }
}

export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve((server.address() as { port: number }).port));
  });
}

/**
 * Stop accepting connections and wait for in-flight requests; keep-alive connections are closed as
 * soon as they are idle. server.close() alone never ends a keep-alive connection whose client sends
 * request after request (a load balancer's pool, Alipay's notifier under load): Node serves them
 * for as long as they come, and the shutdown bound kills the process mid-request. So requests that
 * still arrive on such a connection are answered with `Connection: close`, and idle connections are
 * closed until none is left.
 */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    sweep.unref();
    server.prependListener("request", (_req: IncomingMessage, res: ServerResponse) => {
      if (!res.headersSent) res.setHeader("Connection", "close");
    });
    server.close(() => {
      clearInterval(sweep);
      resolve();
    });
    server.closeIdleConnections();
  });
}
