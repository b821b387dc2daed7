// The network between a browser and the gateway (with the identity provider it runs), as a real
// local HTTP server in front of it that a test can make misbehave: a request that matches a fault
// is taken (the connection accepted, the request read) and then never answered, or answered late
// with garbage or with a body that never ends. Everything else goes through to the gateway.
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Fault = {
  method?: string;
  path: RegExp;
  /** How many matching requests it takes (then it is gone); every one when left out. */
  times?: number;
} & (
  | { kind: 'stall' }
  /** Answers after `delayMs` with this status and body (garbage, or `bytes` of it). */
  | { kind: 'answer'; delayMs: number; status?: number; contentType?: string; body: string; bytes?: number }
  /** Sends its headers after `delayMs`, then a byte now and then, never the end. */
  | { kind: 'trickle'; delayMs: number }
);

export type Link = Awaited<ReturnType<typeof startLink>>;

export async function startLink() {
  let target: URL | undefined;
  let faults: Fault[] = [];
  /** Every request seen, as `METHOD /path` (query strings left out). */
  const seen: string[] = [];
  /** Requests taken by a fault and not answered whose connection is still open. */
  const held = new Set<Socket>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  function faultFor(req: IncomingMessage): Fault | undefined {
    const path = (req.url ?? '/').split('?')[0]!;
    const fault = faults.find((f) => (!f.method || f.method === req.method) && f.path.test(path));
    if (fault?.times !== undefined && --fault.times <= 0) faults = faults.filter((f) => f !== fault);
    return fault;
  }

  function later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  }

  function misbehave(fault: Fault, req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    held.add(socket);
    socket.once('close', () => held.delete(socket));
    req.resume();
    if (fault.kind === 'stall') return;
    if (fault.kind === 'answer') {
      const body = fault.bytes ? fault.body.repeat(Math.ceil(fault.bytes / fault.body.length)).slice(0, fault.bytes) : fault.body;
      return later(fault.delayMs, () => {
        held.delete(socket);
        res.writeHead(fault.status ?? 200, { 'content-type': fault.contentType ?? 'application/json' }).end(body);
      });
    }
    later(fault.delayMs, () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"access_token":"');
      const drip = setInterval(() => (socket.destroyed ? clearInterval(drip) : res.write('a')), 200);
      socket.once('close', () => clearInterval(drip));
    });
  }

  function forward(req: IncomingMessage, res: ServerResponse): void {
    const upstream = request(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }

  const server = createServer((req, res) => {
    seen.push(`${req.method} ${(req.url ?? '/').split('?')[0]}`);
    const fault = faultFor(req);
    if (fault) misbehave(fault, req, res);
    else forward(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    /** Where the link leads (the gateway), once it listens. */
    to(address: string) {
      target = new URL(address);
    },
    fault(fault: Fault) {
      faults.push({ ...fault });
    },
    /** The link is good again: no new request is taken (those held stay held). */
    heal() {
      faults = [];
    },
    seen,
    /** How many requests that matched `path` the link has seen. */
    count: (path: RegExp, method?: string) =>
      seen.filter((s) => {
        const [m, p] = s.split(' ');
        return (!method || m === method) && path.test(p!);
      }).length,
    /** Requests taken and never answered whose connection the browser still keeps open. */
    held: () => held.size,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
