import { isIPv4, isIPv6 } from "node:net";

/*
 * Which addresses the gateway may connect to on a client's behalf (image URLs): only public unicast ones. Everything
 * a server can reach but the internet cannot — loopback, private networks, link-local (cloud metadata at
 * 169.254.169.254), carrier-grade NAT, multicast, reserved and documentation ranges — is refused, including the
 * same addresses written as IPv6 (IPv4-mapped, IPv4-compatible, NAT64, 6to4).
 */

type Range = readonly [network: string, prefix: number, what: string];

const LOOPBACK = "a loopback address";
const PRIVATE = "a private address";
const LINK_LOCAL = "a link-local address";
const RESERVED = "a reserved address";
const DOCUMENTATION = "a documentation address";

const IPV4_RANGES: readonly Range[] = [
  ["0.0.0.0", 8, "an unspecified address"],
  ["10.0.0.0", 8, PRIVATE],
  ["100.64.0.0", 10, "a shared (carrier-grade NAT) address"],
  ["127.0.0.0", 8, LOOPBACK],
  ["169.254.0.0", 16, LINK_LOCAL],
  ["172.16.0.0", 12, PRIVATE],
  ["192.0.0.0", 24, RESERVED],
  ["192.0.2.0", 24, DOCUMENTATION],
  ["192.88.99.0", 24, RESERVED],
  ["192.168.0.0", 16, PRIVATE],
  ["198.18.0.0", 15, RESERVED],
  ["198.51.100.0", 24, DOCUMENTATION],
  ["203.0.113.0", 24, DOCUMENTATION],
  ["224.0.0.0", 4, "a multicast address"],
  // Includes the broadcast address 255.255.255.255.
  ["240.0.0.0", 4, RESERVED],
];

const IPV6_RANGES: readonly Range[] = [
  ["::", 128, "an unspecified address"],
  ["::1", 128, LOOPBACK],
  ["64:ff9b:1::", 48, RESERVED],
  ["100::", 64, RESERVED],
  // Teredo tunnels: the IPv4 address inside is obfuscated, so the whole range is refused.
  ["2001::", 32, RESERVED],
  ["2001:2::", 48, RESERVED],
  ["2001:10::", 28, RESERVED],
  ["2001:20::", 28, RESERVED],
  ["2001:db8::", 32, DOCUMENTATION],
  ["3fff::", 20, DOCUMENTATION],
  ["5f00::", 16, RESERVED],
  ["fc00::", 7, "a private (unique local) address"],
  ["fe80::", 10, LINK_LOCAL],
  ["fec0::", 10, "a site-local address"],
  ["ff00::", 8, "a multicast address"],
];

function ipv4ToNumber(address: string): number {
  return address.split(".").reduce((value, octet) => value * 256 + Number(octet), 0);
}

function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/** The address as a 128-bit integer (IPv6 syntax checked by the caller with isIPv6). */
function ipv6ToBigInt(address: string): bigint {
  let text = address.replace(/%.*$/, "");
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1] !== undefined) {
    const value = ipv4ToNumber(dotted[1]);
    text = `${text.slice(0, -dotted[1].length)}${Math.floor(value / 65536).toString(16)}:${(value % 65536).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(tail === undefined ? 0 : missing).fill("0"), ...tailGroups];
  return groups.reduce((value, group) => (value << 16n) | BigInt(Number.parseInt(group, 16)), 0n);
}

interface CompiledRange {
  network: bigint;
  mask: bigint;
  what: string;
}

function compile(ranges: readonly Range[], bits: number, parse: (address: string) => bigint): CompiledRange[] {
  const all = (1n << BigInt(bits)) - 1n;
  return ranges.map(([network, prefix, what]) => {
    const mask = prefix === 0 ? 0n : (all >> BigInt(bits - prefix)) << BigInt(bits - prefix);
    return { network: parse(network) & mask, mask, what };
  });
}

const IPV4 = compile(IPV4_RANGES, 32, (address) => BigInt(ipv4ToNumber(address)));
const IPV6 = compile(IPV6_RANGES, 128, ipv6ToBigInt);

function match(value: bigint, ranges: CompiledRange[]): string | null {
  for (const range of ranges) if ((value & range.mask) === range.network) return range.what;
  return null;
}

function ipv4Reason(address: string): string | null {
  return match(BigInt(ipv4ToNumber(address)), IPV4);
}

/** IPv6 forms that carry an IPv4 address inside, and where it sits. */
function embeddedIpv4(value: bigint): number | null {
  const top96 = value >> 32n;
  const low32 = Number(value & 0xffffffffn);
  if (top96 === 0xffffn) return low32; // ::ffff:a.b.c.d, IPv4-mapped
  if (top96 === 0n) return low32; // ::a.b.c.d, IPv4-compatible (deprecated)
  if (top96 === 0x0064ff9b0000000000000000n) return low32; // 64:ff9b::a.b.c.d, NAT64
  if (value >> 112n === 0x2002n) return Number((value >> 80n) & 0xffffffffn); // 2002:aabb:ccdd::, 6to4
  return null;
}

/**
 * Why the gateway must not connect to `address` ("a loopback address", …), or null when it is a public address.
 * Anything that is not an IP address is refused too.
 */
export function blockedAddressReason(address: string): string | null {
  if (isIPv4(address)) return ipv4Reason(address);
  const bare = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  if (!isIPv6(bare)) return "not an IP address";
  const value = ipv6ToBigInt(bare);
  // :: and ::1 are matched as themselves before the IPv4-compatible rule reads them as 0.0.0.0 and 0.0.0.1.
  const own = match(value, IPV6);
  if (own !== null) return own;
  const inner = embeddedIpv4(value);
  if (inner === null) return null;
  const innerReason = ipv4Reason(numberToIpv4(inner));
  return innerReason === null ? null : `${innerReason} (${numberToIpv4(inner)}) written as IPv6`;
}
