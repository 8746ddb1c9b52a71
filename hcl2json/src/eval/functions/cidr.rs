//! CIDR functions for IPv4 and IPv6, following HashiCorp's go-cty-funcs
//! `cidr` package and the `go-cidr` library it uses.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::args::{whole_number, FuncResult, Signature};
use super::FuncContext;
use crate::value::Value;

const CIDRHOST: Signature = Signature::fixed("cidrhost", &["prefix", "hostnum"]);
const CIDRNETMASK: Signature = Signature::fixed("cidrnetmask", &["prefix"]);
const CIDRSUBNET: Signature = Signature::fixed("cidrsubnet", &["prefix", "newbits", "netnum"]);
const CIDRSUBNETS: Signature = Signature::variadic("cidrsubnets", &["prefix"], "newbits");

/// The most bits a subnet may add to its parent's prefix.
const MAX_NEW_BITS: i64 = 32;

/// An IP network: an address (IPv4 in the low 32 bits) and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Network {
    addr: u128,
    prefix: u32,
    bits: u32,
}

impl Network {
    /// Parses `a.b.c.d/n` or an IPv6 prefix as Go's `net.ParseCIDR` does,
    /// keeping only the network part of the address.
    fn parse(text: &str) -> Result<Network, String> {
        let invalid = || format!("invalid CIDR expression: invalid CIDR address: {text}");
        let (addr, prefix) = text.split_once('/').ok_or_else(invalid)?;
        let (addr, bits) = match addr.parse::<Ipv4Addr>() {
            Ok(v4) => (u128::from(u32::from(v4)), 32),
            Err(_) => (
                u128::from(addr.parse::<Ipv6Addr>().map_err(|_| invalid())?),
                128,
            ),
        };
        if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let prefix: u32 = prefix.parse().map_err(|_| invalid())?;
        if prefix > bits {
            return Err(invalid());
        }
        Ok(Network {
            addr: addr & mask(prefix, bits),
            prefix,
            bits,
        })
    }

    /// The last address of the network.
    fn last(&self) -> u128 {
        self.addr | host_mask(self.prefix, self.bits)
    }

    fn contains(&self, addr: u128) -> bool {
        addr & mask(self.prefix, self.bits) == self.addr
    }

    /// The network of `prefix` bits that `addr` is in.
    fn around(addr: u128, prefix: u32, bits: u32) -> Network {
        Network {
            addr: addr & mask(prefix, bits),
            prefix,
            bits,
        }
    }

    fn family(&self) -> &'static str {
        if self.bits == 32 {
            "IPv4"
        } else {
            "IPv6"
        }
    }
}

impl std::fmt::Display for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", ip_string(self.addr, self.bits), self.prefix)
    }
}

/// All ones in an address of `bits` bits.
fn full(bits: u32) -> u128 {
    if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

/// The host part of an address: the low `bits - prefix` bits.
fn host_mask(prefix: u32, bits: u32) -> u128 {
    full(bits.saturating_sub(prefix))
}

/// The network part of an address: the high `prefix` bits.
fn mask(prefix: u32, bits: u32) -> u128 {
    full(bits) & !host_mask(prefix, bits)
}

/// Writes an address as Go's `net.IP.String` does; IPv4-mapped IPv6
/// addresses come out in dotted form.
fn ip_string(addr: u128, bits: u32) -> String {
    if bits == 32 {
        return Ipv4Addr::from(u32::try_from(addr & full(32)).unwrap_or(0)).to_string();
    }
    let v6 = Ipv6Addr::from(addr);
    match v6.to_ipv4_mapped() {
        Some(v4) => v4.to_string(),
        None => v6.to_string(),
    }
}

/// `cidrhost(prefix, hostnum)`: the address numbered `hostnum` in the
/// network; negative numbers count back from the last address.
pub(crate) fn cidrhost(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [prefix, hostnum] = CIDRHOST.exact(args)?;
    let prefix = CIDRHOST.string(0, &prefix)?;
    let hostnum = whole_number(CIDRHOST.number(1, &hostnum)?)?;
    let network = Network::parse(&prefix)?;
    let max = host_mask(network.prefix, network.bits);
    let (offset, shown) = if hostnum < 0 {
        let back = i128::from(hostnum).unsigned_abs() - 1;
        (
            back,
            i128::try_from(max)
                .unwrap_or(i128::MAX)
                .saturating_sub_unsigned(back),
        )
    } else {
        (hostnum.unsigned_abs().into(), i128::from(hostnum))
    };
    if offset > max {
        return Err(format!(
            "prefix of {} does not accommodate a host numbered {shown}",
            network.prefix
        ));
    }
    let host = if hostnum < 0 { max - offset } else { offset };
    Ok(Value::String(ip_string(network.addr | host, network.bits)))
}

/// `cidrnetmask(prefix)`: the network mask in address form.
pub(crate) fn cidrnetmask(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [prefix] = CIDRNETMASK.exact(args)?;
    let network = Network::parse(&CIDRNETMASK.string(0, &prefix)?)?;
    Ok(Value::String(ip_string(
        mask(network.prefix, network.bits),
        network.bits,
    )))
}

/// `cidrsubnet(prefix, newbits, netnum)`: subnet number `netnum` of the
/// network, with a prefix `newbits` longer.
pub(crate) fn cidrsubnet(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [prefix, newbits, netnum] = CIDRSUBNET.exact(args)?;
    let prefix = CIDRSUBNET.string(0, &prefix)?;
    let newbits = whole_number(CIDRSUBNET.number(1, &newbits)?)?;
    let netnum = whole_number(CIDRSUBNET.number(2, &netnum)?)?;
    let network = Network::parse(&prefix)?;
    if newbits > MAX_NEW_BITS {
        return Err("may not extend prefix by more than 32 bits".to_owned());
    }
    subnet(network, newbits, netnum).map(|n| Value::String(n.to_string()))
}

fn subnet(network: Network, newbits: i64, netnum: i64) -> Result<Network, String> {
    let new_prefix = i64::from(network.prefix) + newbits;
    let insufficient = || {
        format!(
            "insufficient address space to extend prefix of {} by {newbits}",
            network.prefix
        )
    };
    let new_prefix = u32::try_from(new_prefix)
        .ok()
        .filter(|&p| p <= network.bits)
        .ok_or_else(insufficient)?;
    let max_netnum = u32::try_from(newbits).map_or(u128::from(u64::MAX), full);
    let netnum_too_big =
        || format!("prefix extension of {newbits} does not accommodate a subnet numbered {netnum}");
    let num = u128::try_from(netnum)
        .ok()
        .filter(|&n| n <= max_netnum)
        .ok_or_else(netnum_too_big)?;
    let shift = network.bits - new_prefix;
    let shifted = if num == 0 {
        0
    } else {
        num.checked_shl(shift)
            .filter(|s| s >> shift == num && *s <= full(network.bits))
            .ok_or_else(insufficient)?
    };
    Ok(Network {
        addr: network.addr | shifted,
        prefix: new_prefix,
        bits: network.bits,
    })
}

/// `cidrsubnets(prefix, newbits...)`: consecutive subnets of the network,
/// each `newbits` longer than its prefix, aligned and not overlapping.
pub(crate) fn cidrsubnets(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let ([prefix], newbits) = CIDRSUBNETS.split::<1>(args)?;
    let prefix = CIDRSUBNETS.string(0, &prefix)?;
    let network = Network::parse(&prefix).map_err(|e| CIDRSUBNETS.arg_error(0, e))?;
    let lengths = newbits
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let n = CIDRSUBNETS.number(i + 1, n)?;
            whole_number(n).map_err(|e| CIDRSUBNETS.arg_error(i + 1, e))
        })
        .collect::<Result<Vec<i64>, String>>()?;
    let Some(&first) = lengths.first() else {
        return Ok(Value::Tuple(vec![]));
    };
    let first_prefix = clamp_prefix(
        i64::from(network.prefix).saturating_add(first),
        network.bits,
    );
    let mut current = Network::around(
        network.addr.wrapping_sub(1) & full(network.bits),
        first_prefix,
        network.bits,
    );
    let mut subnets = Vec::with_capacity(lengths.len());
    for (i, &extra) in lengths.iter().enumerate() {
        let arg = i + 1;
        if extra < 1 {
            return Err(CIDRSUBNETS.arg_error(arg, "must extend prefix by at least one bit"));
        }
        if extra > MAX_NEW_BITS {
            return Err(CIDRSUBNETS.arg_error(arg, "may not extend prefix by more than 32 bits"));
        }
        let length = i64::from(network.prefix) + extra;
        if length > i64::from(network.bits) {
            return Err(CIDRSUBNETS.arg_error(
                arg,
                format!(
                    "would extend prefix to {length} bits, which is too long for an {} address",
                    network.family()
                ),
            ));
        }
        let length = clamp_prefix(length, network.bits);
        let (next, rolled_over) = next_subnet(current, length);
        if rolled_over || !network.contains(next.addr) {
            return Err(CIDRSUBNETS.arg_error(
                arg,
                format!(
                    "not enough remaining address space for a subnet with a prefix of {length} bits after {current}"
                ),
            ));
        }
        current = next;
        subnets.push(Value::String(current.to_string()));
    }
    Ok(Value::Tuple(subnets))
}

fn clamp_prefix(prefix: i64, bits: u32) -> u32 {
    u32::try_from(prefix.clamp(0, i64::from(bits))).unwrap_or(bits)
}

/// The first network of `prefix` bits after the end of `current`, and
/// whether the address space wrapped around to reach it.
fn next_subnet(current: Network, prefix: u32) -> (Network, bool) {
    let bits = current.bits;
    let last = Network::around(current.last(), prefix, bits).last();
    let after = last.wrapping_add(1) & full(bits);
    (Network::around(after, prefix, bits), after == 0)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{call, i, s};
    use super::*;

    #[test]
    fn parses_like_go() {
        assert_eq!(
            Network::parse("10.1.2.3/8"),
            Ok(Network {
                addr: 0x0a00_0000,
                prefix: 8,
                bits: 32
            })
        );
        for bad in [
            "10.0.0.0",
            "10.0.0.0/33",
            "010.0.0.0/8",
            "10.0.0.0/+8",
            "x/8",
            "::/129",
        ] {
            assert_eq!(
                Network::parse(bad),
                Err(format!(
                    "invalid CIDR expression: invalid CIDR address: {bad}"
                ))
            );
        }
        assert!(Network::parse("fe80::/10").is_ok());
    }

    #[test]
    fn host_addresses() {
        assert_eq!(
            call(cidrhost, vec![s("10.12.112.0/20"), i(16)]),
            Ok(s("10.12.112.16"))
        );
        assert_eq!(
            call(cidrhost, vec![s("10.12.112.0/20"), i(268)]),
            Ok(s("10.12.113.12"))
        );
        assert_eq!(
            call(cidrhost, vec![s("10.0.0.0/24"), i(-1)]),
            Ok(s("10.0.0.255"))
        );
        assert_eq!(
            call(cidrhost, vec![s("fd00:fd12:3456:7890:00a2::/72"), i(34)]),
            Ok(s("fd00:fd12:3456:7890::22"))
        );
        assert_eq!(
            call(cidrhost, vec![s("10.0.0.0/24"), i(256)]),
            Err("prefix of 24 does not accommodate a host numbered 256".to_owned())
        );
        assert_eq!(
            call(cidrhost, vec![s("10.0.0.0/24"), i(-257)]),
            Err("prefix of 24 does not accommodate a host numbered -1".to_owned())
        );
        assert_eq!(
            call(cidrhost, vec![s("::ffff:10.0.0.0/120"), i(5)]),
            Ok(s("10.0.0.5"))
        );
        assert!(call(cidrhost, vec![s("10.0.0.0/24"), Value::from(1.5)])
            .unwrap_err()
            .contains("whole number"));
    }

    #[test]
    fn netmasks() {
        assert_eq!(
            call(cidrnetmask, vec![s("172.16.0.0/12")]),
            Ok(s("255.240.0.0"))
        );
        assert_eq!(call(cidrnetmask, vec![s("10.0.0.0/0")]), Ok(s("0.0.0.0")));
        assert_eq!(
            call(cidrnetmask, vec![s("fe80::/64")]),
            Ok(s("ffff:ffff:ffff:ffff::"))
        );
        assert!(call(cidrnetmask, vec![s("nope")]).is_err());
    }

    #[test]
    fn subnets() {
        assert_eq!(
            call(cidrsubnet, vec![s("172.16.0.0/12"), i(4), i(2)]),
            Ok(s("172.18.0.0/16"))
        );
        assert_eq!(
            call(cidrsubnet, vec![s("10.1.2.0/24"), i(4), i(15)]),
            Ok(s("10.1.2.240/28"))
        );
        assert_eq!(
            call(
                cidrsubnet,
                vec![s("fd00:fd12:3456:7890::/56"), i(16), i(162)]
            ),
            Ok(s("fd00:fd12:3456:7800:a200::/72"))
        );
        assert_eq!(
            call(cidrsubnet, vec![s("10.0.0.0/30"), i(4), i(0)]),
            Err("insufficient address space to extend prefix of 30 by 4".to_owned())
        );
        assert_eq!(
            call(cidrsubnet, vec![s("10.0.0.0/8"), i(2), i(4)]),
            Err("prefix extension of 2 does not accommodate a subnet numbered 4".to_owned())
        );
        assert_eq!(
            call(cidrsubnet, vec![s("::/0"), i(33), i(0)]),
            Err("may not extend prefix by more than 32 bits".to_owned())
        );
    }

    #[test]
    fn consecutive_subnets() {
        let list = |items: &[&str]| Value::Tuple(items.iter().map(|&x| s(x)).collect());
        assert_eq!(
            call(cidrsubnets, vec![s("10.1.0.0/16"), i(4), i(4), i(8), i(4)]),
            Ok(list(&[
                "10.1.0.0/20",
                "10.1.16.0/20",
                "10.1.32.0/24",
                "10.1.48.0/20"
            ]))
        );
        assert_eq!(
            call(
                cidrsubnets,
                vec![s("fd00:fd12:3456:7890::/56"), i(16), i(16), i(16), i(32)]
            ),
            Ok(list(&[
                "fd00:fd12:3456:7800::/72",
                "fd00:fd12:3456:7800:100::/72",
                "fd00:fd12:3456:7800:200::/72",
                "fd00:fd12:3456:7800:300::/88"
            ]))
        );
        assert_eq!(call(cidrsubnets, vec![s("10.0.0.0/8")]), Ok(list(&[])));
        assert_eq!(
            call(cidrsubnets, vec![s("10.0.0.0/30"), i(1), i(1), i(1)]),
            Err("Invalid value for \"newbits\" parameter: not enough remaining address space for a subnet with a prefix of 31 bits after 10.0.0.2/31".to_owned())
        );
        assert_eq!(
            call(cidrsubnets, vec![s("10.0.0.0/30"), i(3)]),
            Err("Invalid value for \"newbits\" parameter: would extend prefix to 33 bits, which is too long for an IPv4 address".to_owned())
        );
        assert!(call(cidrsubnets, vec![s("10.0.0.0/8"), i(0)])
            .unwrap_err()
            .contains("at least one bit"));
        assert!(call(cidrsubnets, vec![s("bad"), i(1)])
            .unwrap_err()
            .starts_with("Invalid value for \"prefix\" parameter: invalid CIDR expression"));
        // go-cidr starts from the subnet before the network, and counts
        // wrapping around from the top of the address space as running out.
        assert_eq!(
            call(cidrsubnets, vec![s("0.0.0.0/0"), i(1), i(1)]),
            Err("Invalid value for \"newbits\" parameter: not enough remaining address space for a subnet with a prefix of 1 bits after 128.0.0.0/1".to_owned())
        );
    }
}
