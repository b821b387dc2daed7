// Where the gateway may send webhooks. A receiver URL is chosen by a client, so it must
// not become a way to reach the gateway's own network (SSRF): https only, no credentials,
// and the address is checked again at every delivery, after name resolution (a name that
// resolves to a private address at send time is refused, whatever it resolved to before).
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

export type TargetPolicy = {
  /** Loopback receivers (and plain http to them): development mode only. */
  allowLoopback: boolean;
  /** Private (RFC 1918, unique-local, CGNAT) receivers, e.g. behind a VPN; never link-local or metadata. */
  allowPrivateNetworks: boolean;
};

/** A block list of address ranges: `[address, prefix length]`, IPv4 or IPv6. */
function blockList(ranges: readonly (readonly [string, number])[]): BlockList {
  const list = new BlockList();
  for (const [address, prefix] of ranges) list.addSubnet(address, prefix, isIP(address) === 6 ? 'ipv6' : 'ipv4');
  return list;
}

const LOOPBACK = blockList([
  ['127.0.0.0', 8],
  ['::1', 128],
]);

const PRIVATE = blockList([
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['100.64.0.0', 10],
  ['fc00::', 7],
  // Site-local (deprecated by RFC 3879, still routed inside some networks as their private range).
  ['fec0::', 10],
]);

/** Never a receiver: unspecified, link-local (cloud metadata at 169.254.169.254), multicast, reserved. */
const FORBIDDEN = blockList([
  ['0.0.0.0', 8],
  ['169.254.0.0', 16],
  ['192.0.0.0', 24],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
  ['::', 128],
  ['fe80::', 10],
  ['ff00::', 8],
]);

type AddressClass = 'loopback' | 'private' | 'forbidden' | 'public';

/** A local-use NAT64 prefix (RFC 8215): its translator is on someone's own network. */
const LOCAL_NAT64 = ipaddr.IPv6.parseCIDR('64:ff9b:1::/48');

/**
 * The IPv4 address an IPv6 transition form carries (IPv4-mapped, IPv4-translated, NAT64,
 * 6to4, Teredo's client, IPv4-compatible): packets to it end up there, so it is judged by it.
 */
function embeddedIPv4(address: string): string | undefined {
  if (!ipaddr.IPv6.isValid(address)) return undefined;
  const v6 = ipaddr.IPv6.parse(address);
  const p = v6.parts;
  const v4 = (high: number, low: number) => ipaddr.fromByteArray([high >> 8, high & 0xff, low >> 8, low & 0xff]).toString();
  const range = v6.range();
  if (range === 'ipv4Mapped' || range === 'rfc6145' || range === 'rfc6052') return v4(p[6]!, p[7]!);
  if (range === '6to4') return v4(p[1]!, p[2]!);
  if (range === 'teredo') return v4(p[6]! ^ 0xffff, p[7]! ^ 0xffff);
  // IPv4-compatible (::a.b.c.d, deprecated), other than :: and ::1.
  return p.slice(0, 6).every((x) => x === 0) && (p[6] !== 0 || p[7]! > 1) ? v4(p[6]!, p[7]!) : undefined;
}

export function classifyAddress(address: string): AddressClass {
  const embedded = embeddedIPv4(address);
  if (embedded) return classifyAddress(embedded);
  if (ipaddr.IPv6.isValid(address) && ipaddr.IPv6.parse(address).match(LOCAL_NAT64)) return 'private';
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  if (LOOPBACK.check(address, family)) return 'loopback';
  if (FORBIDDEN.check(address, family)) return 'forbidden';
  if (PRIVATE.check(address, family)) return 'private';
  return 'public';
}

/** Why an address may not receive webhooks, or undefined when it may. */
export function refusalFor(address: string, policy: TargetPolicy): string | undefined {
  switch (classifyAddress(address)) {
    case 'public':
      return undefined;
    case 'loopback':
      return policy.allowLoopback ? undefined : 'a loopback address';
    case 'private':
      return policy.allowPrivateNetworks ? undefined : 'a private network address';
    case 'forbidden':
      return 'a link-local, multicast or reserved address';
  }
}

const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

/** `localhost`, written with its root dot or as a name under it: RFC 6761 gives them all to loopback. */
const isLocalhostName = (host: string) => /(^|\.)localhost\.?$/.test(host);

function isLoopbackHost(url: URL): boolean {
  const host = hostOf(url);
  return isLocalhostName(host) || (isIP(host) !== 0 && classifyAddress(host) === 'loopback');
}

/** Checks a receiver URL as registered; returns the problem, if any. */
export function urlProblem(raw: string, policy: TargetPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not an absolute URL';
  }
  if (raw.length > 2000) return 'longer than 2000 characters';
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'only https URLs receive webhooks';
  if (url.username || url.password) return 'credentials in the URL are refused; authenticate the gateway by the signature';
  if (url.hash) return 'a URL fragment is never sent; leave it out';
  if (url.protocol === 'http:' && !(policy.allowLoopback && isLoopbackHost(url))) {
    return policy.allowLoopback
      ? 'plain http only to a loopback address (in development mode)'
      : 'only https URLs receive webhooks';
  }
  const host = hostOf(url);
  if (isLocalhostName(host)) return policy.allowLoopback ? undefined : 'a loopback address';
  if (isIP(host) !== 0) {
    const refusal = refusalFor(host, policy);
    if (refusal) return `${host} is ${refusal}`;
  }
  return undefined;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http(s).request that resolves the name and refuses the connection when
 * any address it resolves to may not receive webhooks (so DNS cannot point us inward).
 */
export function guardedLookup(policy: TargetPolicy) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      const list = addresses;
      const refused = list.map((a) => refusalFor(a.address, policy)).find(Boolean);
      if (refused || list.length === 0) {
        const failure: NodeJS.ErrnoException = new Error(`${hostname} resolves to ${refused ?? 'nothing'}; refused`);
        failure.code = 'ERR_WEBHOOK_TARGET_REFUSED';
        return callback(failure, '');
      }
      if (options.all) return callback(null, list);
      const first = list[0]!;
      return callback(null, first.address, first.family);
    });
  };
}

/** The literal IP a URL names, checked the same way (a literal is connected to without a lookup). */
export function literalRefusal(url: URL, policy: TargetPolicy): string | undefined {
  const host = hostOf(url);
  if (isIP(host) === 0) return undefined;
  return refusalFor(host, policy);
}
