"""A line-protocol TCP server for the skynet.socketchannel tests (tests/lua_channel.rs).

usage: channel_peer.py order|session [auth-token]
Listens on a free loopback port and prints "PORT <n>". Exits when stdin closes.

order mode (one reply per request, in order):
  AUTH <token>  -> OK | DENY        (with an auth token, other commands need it first)
  ECHO <text>   -> <text>
  WHO           -> conn <n> gen <g> (connection number, listener generation)
  MULTI <n>     -> part1 .. part<n>, then end
  PUSH <text>   -> <text>, twice (the second one nobody asked for)
  FAIL          -> -refused         (the reader turns it into false, "refused")
  BAD           -> !garbage         (the reader raises on it)
  DROP          -> closes the connection without answering
  HALF          -> "par" (no newline) and closes
  RESTART       -> listens again on the same port, then closes every connection
  SINK          -> stops reading this connection until RELEASE; then reads and discards
  RELEASE       -> released (on another connection)

session mode: "<session> <hold> <command>" requests are kept until <hold> of them are
pending, then answered newest first as "<session> ok <command>", except:
  DROP   -> closes the connection without answering
  HALF   -> "<session> ok pa" (no newline) and closes
  BAD    -> "!garbage" (no session: the channel's response function raises)
  ERR    -> "<session> err failed"
  MULTI  -> "<session> more a", "<session> more b", "<session> ok c"
  GHOST  -> "999999 ok ghost" (an unknown session), then "<session> ok real"
"""

import os
import selectors
import socket
import sys


class Peer:
    def __init__(self, mode, token):
        self.mode = mode
        self.token = token
        self.sel = selectors.DefaultSelector()
        self.port = 0
        self.gen = 0
        self.conns = {}
        self.count = 0
        self.held = []
        self.listen()
        self.sel.register(sys.stdin, selectors.EVENT_READ, self.on_stdin)

    def listen(self):
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.port))
        ls.listen(64)
        self.port = ls.getsockname()[1]
        self.listener = ls
        self.gen += 1
        self.sel.register(ls, selectors.EVENT_READ, self.on_accept)

    def on_stdin(self, _):
        if not os.read(sys.stdin.fileno(), 4096):
            sys.exit(0)

    def on_accept(self, ls):
        if ls is not self.listener:
            return  # an event of the listener RESTART replaced
        conn, _ = ls.accept()
        self.count += 1
        state = {"buf": b"", "authed": self.token is None, "id": self.count,
                 "pending": [], "sink": False}
        self.conns[conn] = state
        self.sel.register(conn, selectors.EVENT_READ, self.on_data)

    def close(self, conn):
        if conn in self.conns:
            del self.conns[conn]
            try:
                self.sel.unregister(conn)
            except (KeyError, ValueError):
                pass
            conn.close()

    def on_data(self, conn):
        state = self.conns.get(conn)
        if state is None:
            return  # closed earlier in this round of events
        try:
            data = conn.recv(1 << 16)
        except ConnectionError:
            data = b""
        if not data:
            self.close(conn)
            return
        if state["sink"]:
            return
        state["buf"] += data
        while conn in self.conns and not state["sink"] and b"\n" in state["buf"]:
            line, state["buf"] = state["buf"].split(b"\n", 1)
            if self.mode == "order":
                self.order(conn, state, line.decode())
            else:
                self.session(conn, state, line.decode())

    def order(self, conn, state, line):
        cmd, _, arg = line.partition(" ")
        if cmd == "AUTH":
            state["authed"] = arg == self.token
            conn.sendall(b"OK\n" if state["authed"] else b"DENY\n")
        elif not state["authed"]:
            conn.sendall(b"NOAUTH\n")
        elif cmd == "ECHO":
            conn.sendall(arg.encode() + b"\n")
        elif cmd == "WHO":
            conn.sendall(f"conn {state['id']} gen {self.gen}\n".encode())
        elif cmd == "MULTI":
            parts = "".join(f"part{i}\n" for i in range(1, int(arg) + 1))
            conn.sendall((parts + "end\n").encode())
        elif cmd == "PUSH":
            conn.sendall((arg + "\n" + arg + "\n").encode())
        elif cmd == "FAIL":
            conn.sendall(b"-refused\n")
        elif cmd == "BAD":
            conn.sendall(b"!garbage\n")
        elif cmd == "DROP":
            self.close(conn)
        elif cmd == "HALF":
            conn.sendall(b"par")
            self.close(conn)
        elif cmd == "RESTART":
            self.sel.unregister(self.listener)
            self.listener.close()
            self.listen()
            for c in list(self.conns):
                self.close(c)
        elif cmd == "SINK":
            state["sink"] = True
            self.sel.unregister(conn)
            self.held.append(conn)
        elif cmd == "RELEASE":
            for c in self.held:
                if c in self.conns:
                    self.sel.register(c, selectors.EVENT_READ, self.on_data)
            self.held = []
            conn.sendall(b"released\n")
        else:
            conn.sendall(b"?\n")

    def session(self, conn, state, line):
        session, hold, cmd = line.split(" ", 2)
        if cmd == "DROP":
            self.close(conn)
            return
        if cmd == "HALF":
            conn.sendall(f"{session} ok pa".encode())
            self.close(conn)
            return
        if cmd == "BAD":
            conn.sendall(b"!garbage\n")
            return
        pending = state["pending"]
        pending.append((session, cmd))
        if len(pending) < int(hold):
            return
        state["pending"] = []
        out = []
        for session, cmd in reversed(pending):
            if cmd == "ERR":
                out.append(f"{session} err failed\n")
            elif cmd == "MULTI":
                out.append(f"{session} more a\n{session} more b\n{session} ok c\n")
            elif cmd == "GHOST":
                out.append(f"999999 ok ghost\n{session} ok real\n")
            else:
                out.append(f"{session} ok {cmd}\n")
        conn.sendall("".join(out).encode())

    def run(self):
        print(f"PORT {self.port}", flush=True)
        while True:
            for key, _ in self.sel.select():
                key.data(key.fileobj)


if __name__ == "__main__":
    Peer(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None).run()
