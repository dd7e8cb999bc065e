#!/usr/bin/python3
"""Traffic endpoints for the isolation tests, run inside the test's network namespaces.

  netprobe.py serve --tcp 5432,9999 --udp 9694 --state FILE
      Echo server on [::] (dual stack) for every TCP and UDP port; its pid goes to FILE.pid. On
      start and on SIGUSR1 it writes, to FILE, how many TCP connections and UDP datagrams it
      accepted from each peer address; the re-apply test asks it whether a forbidden peer ever
      got through.
  netprobe.py probe [--timeout S]  < targets
      One target a line: "tcp ADDR PORT", "udp ADDR PORT" or "icmp ADDR". All run in parallel;
      prints "<target> open|closed". open = the packet reached the peer's stack (a reply, or an
      RST / port-unreachable came back), closed = nothing came back before the timeout.
  netprobe.py storm --target ADDR PORT --count N [--parallel P] [--timeout S] --out FILE
      N TCP connects (P at a time), each sending and reading back a few bytes; writes
      "attempts accepted failed" to FILE.
  netprobe.py hold --target ADDR PORT --fifo DIR
      Keeps one TCP connection open (first line of DIR/out: "connected <local port>"); every
      line written to the fifo DIR/in is sent and must come back unchanged; the result ("ok N" or
      "broken: why") is appended to DIR/out; the line "quit" closes the connection.
  netprobe.py spoof ...   forged-source and ICMP packets through scapy (see spoof_main).
"""

import argparse
import asyncio
import ipaddress
import json
import os
import signal
import socket
import sys


def debug(message):
    if os.environ.get("PGT_DEBUG"):
        print(f"netprobe: {message}", file=sys.stderr)


def ports(text):
    return [int(p) for p in text.split(",") if p]


# ---------------------------------------------------------------- serve
async def serve(args):
    tcp_by_peer = {}
    udp_by_peer = {}

    def count(table, host):
        address = ipaddress.ip_address(host.split("%")[0])
        if address.version == 6 and address.ipv4_mapped:
            address = address.ipv4_mapped
        table[str(address)] = table.get(str(address), 0) + 1

    async def echo(reader, writer):
        count(tcp_by_peer, writer.get_extra_info("peername")[0])
        try:
            while data := await reader.read(4096):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    def udp_echo(sock):
        try:
            data, ancillary, _, addr = sock.recvmsg(4096, 256)
        except BlockingIOError:
            return
        count(udp_by_peer, addr[0])
        # IPV6_PKTINFO arrives for IPv4-mapped peers too; sending it back sets the source.
        reply_info = [(level, kind, value) for level, kind, value in ancillary
                      if level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO]
        try:
            sock.sendmsg([data], reply_info, 0, addr)
        except OSError:
            pass

    loop = asyncio.get_running_loop()
    servers = []
    for port in ports(args.tcp):
        sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(("::", port))
        sock.listen(4096)
        servers.append(await asyncio.start_server(echo, sock=sock))
    for port in ports(args.udp):
        sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        # Answer from the address the datagram was sent to (a VM with a VIP has two), else the
        # prober's connected socket ignores the reply.
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
        sock.setblocking(False)
        sock.bind(("::", port))
        loop.add_reader(sock, udp_echo, sock)

    def dump():
        tmp = args.state + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"tcp": tcp_by_peer, "udp": udp_by_peer}, f)
        os.rename(tmp, args.state)

    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGUSR1, dump)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    # Readiness: the caller waits for these files before it sends traffic. `ip netns exec`
    # may stay as our parent, so the caller signals the pid written here, not the one it forked.
    with open(args.state + ".pid", "w") as f:
        f.write(f"{os.getpid()}\n")
    dump()
    await stop.wait()


# ---------------------------------------------------------------- probe
async def probe_tcp(addr, port, timeout):
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(addr, port), timeout)
    except ConnectionRefusedError:
        return "open"  # an RST came back: the SYN went through the peer's firewall
    except (asyncio.TimeoutError, OSError) as error:
        debug(f"tcp {addr} {port}: {error!r}")
        return "closed"
    try:
        writer.write(b"probe\n")
        await writer.drain()
        data = await asyncio.wait_for(reader.readexactly(6), timeout)
        return "open" if data == b"probe\n" else "closed"
    except (asyncio.TimeoutError, OSError, asyncio.IncompleteReadError):
        return "closed"
    finally:
        writer.close()


async def probe_udp(addr, port, timeout):
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setblocking(False)
    try:
        sock.connect((addr, port))
        for _ in range(2):  # one retry: a first datagram may wait on neighbour resolution
            sock.send(b"probe")
            try:
                data = await asyncio.wait_for(loop.sock_recv(sock, 64), timeout / 2)
                return "open" if data == b"probe" else "closed"
            except ConnectionRefusedError:
                return "open"
            except asyncio.TimeoutError:
                continue
        return "closed"
    except ConnectionRefusedError:
        return "open"
    except OSError as error:
        # EPERM: our own output chain dropped it; anything else: it did not get through either.
        debug(f"udp {addr} {port}: {error}")
        return "closed"
    finally:
        sock.close()


async def probe_icmp(addr, timeout):
    proc = await asyncio.create_subprocess_exec(
        "ping", "-n", "-q", "-c", "1", "-W", str(max(1, int(timeout))), addr,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    return "open" if await proc.wait() == 0 else "closed"


async def probe(args):
    targets = [line.split() for line in sys.stdin if line.strip()]

    async def one(target):
        kind = target[0]
        if kind == "tcp":
            result = await probe_tcp(target[1], int(target[2]), args.timeout)
        elif kind == "udp":
            result = await probe_udp(target[1], int(target[2]), args.timeout)
        elif kind == "icmp":
            result = await probe_icmp(target[1], args.timeout)
        else:
            raise SystemExit(f"netprobe: unknown target kind {kind!r}")
        return " ".join(target) + " " + result

    for line in await asyncio.gather(*(one(t) for t in targets)):
        print(line)


# ---------------------------------------------------------------- storm
async def storm(args):
    addr, port = args.target[0], int(args.target[1])
    accepted = failed = 0
    queue = iter(range(args.count))

    async def worker(index):
        nonlocal accepted, failed
        # Staggered starts keep the attempts spread evenly in time instead of in bursts, so a
        # short window without rules anywhere in the run would be hit.
        await asyncio.sleep(index * args.timeout / args.parallel)
        for _ in queue:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(addr, port), args.timeout)
            except (asyncio.TimeoutError, OSError):
                failed += 1
                continue
            try:
                writer.write(b"x")
                await writer.drain()
                await asyncio.wait_for(reader.readexactly(1), args.timeout)
                accepted += 1
            except (asyncio.TimeoutError, OSError, asyncio.IncompleteReadError):
                failed += 1
            finally:
                writer.close()

    await asyncio.gather(*(worker(i) for i in range(args.parallel)))
    with open(args.out, "w") as f:
        f.write(f"{args.count} {accepted} {failed}\n")


# ---------------------------------------------------------------- hold
def hold(args):
    addr, port = args.target[0], int(args.target[1])
    sock = socket.create_connection((addr, port), timeout=5)
    sock.settimeout(5)
    exchanged = 0
    with open(os.path.join(args.fifo, "out"), "a", buffering=1) as out:
        out.write(f"connected {sock.getsockname()[1]}\n")
        while True:
            with open(os.path.join(args.fifo, "in")) as commands:
                for line in commands:
                    message = line.strip().encode()
                    if message == b"quit":
                        sock.close()
                        return
                    try:
                        sock.sendall(message)
                        received = b""
                        while len(received) < len(message):
                            chunk = sock.recv(len(message) - len(received))
                            if not chunk:
                                raise OSError("connection closed by peer")
                            received += chunk
                        if received != message:
                            raise OSError("echo differs")
                        exchanged += 1
                        out.write(f"ok {exchanged}\n")
                    except OSError as error:
                        out.write(f"broken: {error}\n")
                        return


# ---------------------------------------------------------------- spoof
def spoof_main(args):
    """Crafted packets through scapy, sent on the link (Ethernet) so the sender's own routing
    cannot refuse a forged source such as 127.0.0.1.

    syn: TCP SYNs src -> dst:port. redirect: ICMP redirect whose quoted packet is
    --quote-src:--quote-sport -> --quote-dst:--quote-dport (a live connection makes it "related"
    for conntrack). icmp-errors: fragmentation needed / packet too big, time exceeded and
    parameter problem, quoting the same way. timestamp: ICMP timestamp requests; prints how many
    replies came back.
    """
    import logging
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    from scapy.all import (ICMP, IP, IPv6, TCP, Ether, ICMPv6ND_Redirect, conf, sendp, srp)
    conf.verb = 0
    v6 = ":" in args.dst
    link = Ether(dst=args.mac)
    if args.kind == "syn":
        l3 = IPv6(src=args.src, dst=args.dst) if v6 else IP(src=args.src, dst=args.dst)
        sendp([link / l3 / TCP(sport=40000 + i, dport=args.port, flags="S", seq=1000 + i)
               for i in range(args.count)], iface=args.iface)
    elif args.kind == "redirect":
        if v6:
            pkt = link / IPv6(src=args.src, dst=args.dst, hlim=255) / ICMPv6ND_Redirect(
                tgt=args.gateway, dst=args.quote_dst)
        else:
            pkt = link / IP(src=args.src, dst=args.dst) / ICMP(type=5, code=1, gw=args.gateway) / IP(
                src=args.quote_src, dst=args.quote_dst) / TCP(
                    sport=args.quote_sport, dport=args.quote_dport, flags="A")
        sendp([pkt] * args.count, iface=args.iface)
    elif args.kind == "icmp-errors":
        # The errors a working network needs: PMTU discovery, time exceeded, parameter problem.
        if v6:
            from scapy.all import ICMPv6PacketTooBig, ICMPv6TimeExceeded, ICMPv6ParamProblem
            quote = IPv6(src=args.quote_src, dst=args.quote_dst) / TCP(
                sport=args.quote_sport, dport=args.quote_dport, flags="A")
            errors = [ICMPv6PacketTooBig(mtu=1280), ICMPv6TimeExceeded(), ICMPv6ParamProblem(ptr=6)]
            pkts = [link / IPv6(src=args.src, dst=args.dst) / e / quote for e in errors]
        else:
            quote = IP(src=args.quote_src, dst=args.quote_dst) / TCP(
                sport=args.quote_sport, dport=args.quote_dport, flags="A")
            errors = [ICMP(type=3, code=4, nexthopmtu=1280), ICMP(type=11, code=0), ICMP(type=12, ptr=8)]
            pkts = [link / IP(src=args.src, dst=args.dst) / e / quote for e in errors]
        sendp(pkts * args.count, iface=args.iface)
    elif args.kind == "timestamp":
        pkts = [link / IP(src=args.src, dst=args.dst) / ICMP(type=13, id=77, seq=i)
                for i in range(args.count)]
        answered, _ = srp(pkts, iface=args.iface, timeout=args.timeout)
        print(f"replies {sum(1 for _, reply in answered if ICMP in reply and reply[ICMP].type == 14)}")
    else:
        raise SystemExit(f"netprobe: unknown spoof kind {args.kind!r}")


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve")
    p.add_argument("--tcp", default="")
    p.add_argument("--udp", default="")
    p.add_argument("--state", required=True)
    p = sub.add_parser("probe")
    p.add_argument("--timeout", type=float, default=2.0)
    p = sub.add_parser("storm")
    p.add_argument("--target", nargs=2, required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--parallel", type=int, default=16)
    p.add_argument("--timeout", type=float, default=3.0)
    p.add_argument("--out", required=True)
    p = sub.add_parser("hold")
    p.add_argument("--target", nargs=2, required=True)
    p.add_argument("--fifo", required=True)
    p = sub.add_parser("spoof")
    p.add_argument("kind")
    p.add_argument("--src", required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--timeout", type=float, default=2.0)
    p.add_argument("--mac", required=True)
    p.add_argument("--iface", default="eth0")
    p.add_argument("--gateway", default="")
    p.add_argument("--quote-src", default="")
    p.add_argument("--quote-dst", default="")
    p.add_argument("--quote-sport", type=int, default=0)
    p.add_argument("--quote-dport", type=int, default=0)
    args = parser.parse_args()
    if args.command == "serve":
        asyncio.run(serve(args))
    elif args.command == "probe":
        asyncio.run(probe(args))
    elif args.command == "storm":
        asyncio.run(storm(args))
    elif args.command == "hold":
        hold(args)
    else:
        spoof_main(args)


if __name__ == "__main__":
    main()
