#!/usr/bin/python3
"""Pod agent for moat's netns tests: echo servers and probes inside one network namespace.

Speaks JSON lines: requests {"id", "op", ...} on stdin, answers {"id", "ok", ...} on stdout, and
exits when stdin closes (so an agent whose test process died never outlives it).
Servers answer every connection (TCP/SCTP: once, on accept) or datagram (UDP: with every reply)
with the header line "POD|PEER_IP|PEER_PORT\n" and then echo the bytes they received, so a
probe can tell which pod answered and what source address that pod saw.
"""
import asyncio
import base64
import errno
import json
import os
import socket
import stat
import struct
import sys
import time

PROTO_NUMBERS = {"tcp": socket.IPPROTO_TCP, "sctp": socket.IPPROTO_SCTP, "udp": socket.IPPROTO_UDP}
UNREACHABLE = {errno.EHOSTUNREACH, errno.ENETUNREACH}
UNSUPPORTED = {errno.EPROTONOSUPPORT, errno.ESOCKTNOSUPPORT, errno.EAFNOSUPPORT}
DENIED = {errno.EPERM, errno.EACCES}


class ProbeFailure(Exception):
    """A probe outcome that is not a success: code is one of the ProbeErrorCode values of agent.ts."""

    def __init__(self, code, detail):
        super().__init__(detail)
        self.code = code
        self.detail = detail


def classify(exc):
    if isinstance(exc, ProbeFailure):
        return exc
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return ProbeFailure("timeout", "no answer before the deadline")
    if isinstance(exc, ConnectionRefusedError):
        return ProbeFailure("refused", str(exc))
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        return ProbeFailure("reset", str(exc))
    if isinstance(exc, asyncio.IncompleteReadError):
        return ProbeFailure("closed", "peer closed after %d of %d bytes" % (len(exc.partial), exc.expected or 0))
    if isinstance(exc, OSError) and exc.errno in UNREACHABLE:
        return ProbeFailure("unreachable", str(exc))
    if isinstance(exc, OSError) and exc.errno in UNSUPPORTED:
        return ProbeFailure("unsupported", str(exc))
    if isinstance(exc, OSError) and exc.errno in DENIED:
        return ProbeFailure("denied", str(exc))
    return ProbeFailure("error", "%s: %s" % (type(exc).__name__, exc))


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def plain_ip(ip):
    """A v4 client of a dual-stack socket shows up as ::ffff:a.b.c.d; report a.b.c.d."""
    return ip[7:] if ip.startswith("::ffff:") and "." in ip else ip


def new_socket(proto, host):
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    family = family_of(host)
    sock = socket.socket(family, kind, PROTO_NUMBERS[proto])
    sock.setblocking(False)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    return sock


def set_reset_on_close(sock):
    """Close with RST: probes must not leave thousands of FIN_WAIT sockets behind."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass


def parse_reply(data, payload_len):
    """Split "POD|PEER_IP|PEER_PORT\\n" + echo; returns (pod, peer_ip, echo)."""
    header, sep, rest = data.partition(b"\n")
    fields = header.decode("utf-8", "replace").split("|")
    if not sep or len(fields) != 3:
        raise ProbeFailure("error", "reply is not an echo header: %r" % data[:80])
    return fields[0], fields[1], rest[:payload_len] if payload_len is not None else rest


class Deadline:
    def __init__(self, timeout_ms):
        self.end = time.monotonic() + timeout_ms / 1000.0

    def left(self):
        return max(0.0, self.end - time.monotonic())


async def connect_stream(proto, ip, port, deadline):
    sock = new_socket(proto, ip)
    set_reset_on_close(sock)
    try:
        await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, (ip, port)), deadline.left())
    except BaseException:
        sock.close()
        raise
    return sock


class StreamConnection:
    """A client TCP/SCTP connection; tracks echo bytes still owed by a send that timed out."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.owed = 0

    @classmethod
    async def open(cls, proto, ip, port, deadline):
        sock = await connect_stream(proto, ip, port, deadline)
        reader, writer = await asyncio.open_connection(sock=sock)
        conn = cls(reader, writer)
        try:
            line = await asyncio.wait_for(reader.readline(), deadline.left())
            if not line:
                raise ProbeFailure("closed", "peer closed before its header")
            pod, peer, _ = parse_reply(line, 0)
            return conn, pod, peer
        except BaseException:
            conn.close()
            raise

    async def exchange(self, payload, deadline):
        self.writer.write(payload)
        self.owed += len(payload)
        data = await asyncio.wait_for(self.reader.readexactly(self.owed), deadline.left())
        self.owed = 0
        return data[len(data) - len(payload):]

    def close(self):
        self.writer.transport.abort()


class DatagramConnection:
    def __init__(self, sock):
        self.sock = sock

    @classmethod
    def open(cls, proto, ip, port):
        sock = new_socket(proto, ip)
        try:
            sock.connect((ip, port))
        except BaseException:
            sock.close()
            raise
        return cls(sock)

    async def exchange(self, payload, deadline):
        loop = asyncio.get_running_loop()
        await loop.sock_sendall(self.sock, payload)
        data = await asyncio.wait_for(loop.sock_recv(self.sock, 65535), deadline.left())
        return parse_reply(data, len(payload))

    def close(self):
        self.sock.close()


class EchoStreamServer:
    def __init__(self, pod, proto, host, port):
        self.pod, self.proto, self.host, self.port = pod, proto, host, port
        self.server = None

    async def start(self):
        sock = new_socket(self.proto, self.host)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(512)
            self.server = await asyncio.start_server(self.handle, sock=sock)
        except BaseException:
            sock.close()
            raise
        return sock.getsockname()[1]

    async def handle(self, reader, writer):
        peer = writer.get_extra_info("peername")
        try:
            writer.write(("%s|%s|%d\n" % (self.pod, plain_ip(peer[0]), peer[1])).encode())
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()

    def stop(self):
        self.server.close()


class EchoDatagramServer(asyncio.DatagramProtocol):
    def __init__(self, pod, proto, host, port):
        self.pod, self.proto, self.host, self.port = pod, proto, host, port
        self.transport = None

    async def start(self):
        sock = new_socket(self.proto, self.host)
        try:
            sock.bind((self.host, self.port))
            loop = asyncio.get_running_loop()
            self.transport, _ = await loop.create_datagram_endpoint(lambda: self, sock=sock)
        except BaseException:
            sock.close()
            raise
        return sock.getsockname()[1]

    def datagram_received(self, data, addr):
        header = ("%s|%s|%d\n" % (self.pod, plain_ip(addr[0]), addr[1])).encode()
        self.transport.sendto(header + data, addr)

    def error_received(self, exc):
        pass  # an ICMP error for one client's reply must not stop the server

    def stop(self):
        self.transport.close()


def sctp_support():
    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP).close()
        return True, ""
    except OSError as exc:
        return False, "SCTP sockets unavailable in this kernel (%s; needs CONFIG_IP_SCTP or the sctp module)" % exc


class Agent:
    def __init__(self, pod):
        self.pod = pod
        self.servers = {}
        self.connections = {}
        self.next_connection = 1

    def server_key(self, req):
        return "%s/%s/%d" % (req["proto"], req.get("host") or "::", req["port"])

    def check_proto(self, proto):
        if proto not in PROTO_NUMBERS:
            raise ProbeFailure("error", "unknown proto %r (tcp, udp, sctp)" % proto)

    async def op_serve(self, req):
        proto, host = req["proto"], req.get("host") or "::"
        self.check_proto(proto)
        key = self.server_key(req)
        if key in self.servers:
            raise ProbeFailure("error", "already serving %s" % key)
        kind = EchoDatagramServer if proto == "udp" else EchoStreamServer
        server = kind(self.pod, proto, host, req["port"])
        port = await server.start()
        self.servers[self.server_key(dict(req, port=port))] = server
        return {"port": port}

    async def op_unserve(self, req):
        server = self.servers.pop(self.server_key(req), None)
        if server is None:
            raise ProbeFailure("error", "not serving %s" % self.server_key(req))
        server.stop()
        return {}

    async def connect(self, req, deadline):
        proto, ip, port = req["proto"], req["ip"], req["port"]
        self.check_proto(proto)
        if proto == "udp":
            return DatagramConnection.open(proto, ip, port), None, None
        return await StreamConnection.open(proto, ip, port, deadline)

    async def exchange(self, conn, payload, deadline, pod, peer):
        if isinstance(conn, DatagramConnection):
            pod, peer, echo = await conn.exchange(payload, deadline)
        else:
            echo = await conn.exchange(payload, deadline)
        if echo != payload:
            raise ProbeFailure("error", "echo differs from the payload sent")
        return {"from": pod, "peer": peer, "reply": base64.b64encode(echo).decode()}

    async def op_probe(self, req):
        deadline = Deadline(req["timeoutMs"])
        payload = base64.b64decode(req["payload"])
        if req.get("connectOnly"):
            return await self.probe_connect_only(req, payload, deadline)
        conn, pod, peer = await self.connect(req, deadline)
        try:
            return await self.exchange(conn, payload, deadline, pod, peer)
        finally:
            conn.close()

    async def probe_connect_only(self, req, payload, deadline):
        """For servers that are not kit echo servers: success is a completed handshake and a written payload."""
        self.check_proto(req["proto"])
        if req["proto"] == "udp":
            raise ProbeFailure("error", "connectOnly needs a connection-oriented proto (tcp, sctp)")
        sock = await connect_stream(req["proto"], req["ip"], req["port"], deadline)
        try:
            await asyncio.wait_for(asyncio.get_running_loop().sock_sendall(sock, payload), deadline.left())
            return {}
        finally:
            sock.close()

    async def op_open(self, req):
        conn, pod, peer = await self.connect(req, Deadline(req["timeoutMs"]))
        conn_id = self.next_connection
        self.next_connection += 1
        self.connections[conn_id] = (conn, pod, peer)
        return {"conn": conn_id, "from": pod, "peer": peer}

    def connection(self, req):
        entry = self.connections.get(req["conn"])
        if entry is None:
            raise ProbeFailure("error", "no open connection %r" % req["conn"])
        return entry

    async def op_send(self, req):
        conn, pod, peer = self.connection(req)
        return await self.exchange(conn, base64.b64decode(req["payload"]), Deadline(req["timeoutMs"]), pod, peer)

    async def op_close(self, req):
        conn, _, _ = self.connection(req)
        del self.connections[req["conn"]]
        conn.close()
        return {}

    async def op_close_all(self, _req):
        for conn, _, _ in self.connections.values():
            conn.close()
        closed = len(self.connections)
        self.connections.clear()
        return {"closed": closed}

    async def handle(self, req):
        started = time.monotonic()
        answer = {"id": req.get("id")}
        try:
            method = getattr(self, "op_" + str(req.get("op")), None)
            if method is None:
                raise ProbeFailure("error", "unknown op %r" % req.get("op"))
            answer.update(await method(req))
            answer["ok"] = True
        except KeyError as exc:
            answer.update(ok=False, error="error", detail="request lacks field %s" % exc)
        except Exception as exc:  # every failure is an answer, never a dead agent
            failure = classify(exc)
            answer.update(ok=False, error=failure.code, detail=failure.detail)
        answer["elapsedMs"] = round((time.monotonic() - started) * 1000, 3)
        emit(answer)


def emit(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def main():
    if len(sys.argv) != 3 or sys.argv[1] != "--name":
        sys.exit("usage: pod-agent.py --name POD")
    name = sys.argv[2]
    mode = os.fstat(sys.stdin.fileno()).st_mode
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        sys.exit("pod-agent.py: stdin must be a pipe or socket (requests arrive as JSON lines)")
    agent = Agent(name)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    sctp, sctp_reason = sctp_support()
    emit({"event": "ready", "pod": name, "sctp": sctp, "sctpReason": sctp_reason})
    tasks = set()
    while True:
        line = await reader.readline()
        if not line:
            break
        try:
            req = json.loads(line)
        except ValueError as exc:
            emit({"id": None, "ok": False, "error": "error", "detail": "bad request line: %s" % exc})
            continue
        task = asyncio.create_task(agent.handle(req))
        tasks.add(task)
        task.add_done_callback(tasks.discard)


if __name__ == "__main__":
    asyncio.run(main())
