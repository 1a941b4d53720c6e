import { describe, expect, it } from "vitest";
import { blockedAddressReason } from "~/server/gateway/net/ip-address-policy";

describe("which addresses image URLs may reach", () => {
  it.each([
    ["127.0.0.1", "a loopback address"],
    ["127.255.0.9", "a loopback address"],
    ["::1", "a loopback address"],
    ["10.0.0.1", "a private address"],
    ["172.16.0.1", "a private address"],
    ["172.31.255.255", "a private address"],
    ["192.168.1.10", "a private address"],
    ["fc00::1", "a private (unique local) address"],
    ["fd12:3456:789a::1", "a private (unique local) address"],
    ["169.254.169.254", "a link-local address"],
    ["fe80::1", "a link-local address"],
    ["fe80::1%eth0", "a link-local address"],
    ["0.0.0.0", "an unspecified address"],
    ["::", "an unspecified address"],
    ["100.64.0.1", "a shared (carrier-grade NAT) address"],
    ["224.0.0.251", "a multicast address"],
    ["ff02::1", "a multicast address"],
    ["255.255.255.255", "a reserved address"],
    ["192.0.2.1", "a documentation address"],
    ["2001:db8::1", "a documentation address"],
  ])("%s is %s", (address, reason) => {
    expect(blockedAddressReason(address)).toBe(reason);
  });

  it.each([
    ["::ffff:127.0.0.1", "a loopback address (127.0.0.1) written as IPv6"],
    ["::ffff:7f00:1", "a loopback address (127.0.0.1) written as IPv6"],
    ["::ffff:169.254.169.254", "a link-local address (169.254.169.254) written as IPv6"],
    ["::10.0.0.1", "a private address (10.0.0.1) written as IPv6"],
    ["64:ff9b::192.168.0.1", "a private address (192.168.0.1) written as IPv6"],
    ["2002:0a00:0001::1", "a private address (10.0.0.1) written as IPv6"],
  ])("IPv4 inside IPv6: %s is %s", (address, reason) => {
    expect(blockedAddressReason(address)).toBe(reason);
  });

  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "172.32.0.1",
    "100.128.0.1",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "64:ff9b::8.8.8.8",
  ])("%s is public", (address) => {
    expect(blockedAddressReason(address)).toBeNull();
  });

  it("anything that is not an address is refused", () => {
    expect(blockedAddressReason("localhost")).toBe("not an IP address");
    expect(blockedAddressReason("")).toBe("not an IP address");
  });
});
