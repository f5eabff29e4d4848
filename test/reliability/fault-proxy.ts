import { createServer, type Server, type Socket } from "node:net";

/** What the proxy does with connections: forward them, refuse new ones, reset every one, or hold new ones unanswered. */
export type ProxyMode = "forward" | "refuse" | "reset" | "stall";

/**
 * A TCP proxy on 127.0.0.1 in front of a server, switchable at run time to
 * make that server look down: `refuse` closes each new connection at once
 * (the client sees the socket hang up), `reset` sends a TCP RST on every
 * connection, open ones included; `stall` accepts new connections and never
 * answers them (a server that hangs: no error, no bytes). Counts the
 * connections it broke or stalled.
 *
 * @example
 * const proxy = await FaultProxy.start(dynamodb.port);
 * proxy.setMode("reset"); // DynamoDB unreachable
 * proxy.setMode("forward"); // recovered
 */
export class FaultProxy {
  private mode: ProxyMode = "forward";
  private readonly sockets = new Set<Socket>();
  /** Connections refused or reset so far. */
  broken = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** `http://127.0.0.1:<port>` */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(targetPort: number): Promise<FaultProxy> {
    let proxy: FaultProxy | undefined;
    const server = createServer((client) => proxy?.accept(client, targetPort));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    proxy = new FaultProxy(server, (server.address() as { port: number }).port);
    return proxy;
  }

  setMode(mode: ProxyMode): void {
    this.mode = mode;
    if (mode === "forward" || mode === "stall") return;
    // Keep-alive connections would otherwise carry on as if nothing happened.
    for (const socket of this.sockets) this.breakSocket(socket);
  }

  private breakSocket(socket: Socket): void {
    this.broken++;
    if (this.mode === "reset") socket.resetAndDestroy();
    else socket.destroy();
  }

  private accept(client: Socket, targetPort: number): void {
    client.on("error", () => undefined);
    if (this.mode === "stall") {
      this.broken++;
      this.sockets.add(client);
      client.on("close", () => this.sockets.delete(client));
      return;
    }
    if (this.mode !== "forward") {
      this.breakSocket(client);
      return;
    }
    const upstream = new (client.constructor as typeof Socket)();
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
    upstream.connect(targetPort, "127.0.0.1");
    client.pipe(upstream).pipe(client);
    this.sockets.add(client);
    client.on("close", () => {
      this.sockets.delete(client);
      upstream.destroy();
    });
    upstream.on("close", () => client.destroy());
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
