"""Echo clients for tests/net.rs: CLIENTS concurrent connections to an echo server,
each sending blocks of several sizes (up to 1 MiB) and checking they come back intact.

usage: net_echo.py <host> <port> <clients> [sizes, comma separated]
Prints "net_echo OK <clients> <bytes>" and exits 0, or explains and exits 1.
The socket timeout only guards against a hang."""

import socket
import sys
import threading

TIMEOUT = 60


def recv_exactly(sock, n):
    parts = []
    while n > 0:
        chunk = sock.recv(min(n, 1 << 16))
        if not chunk:
            raise ConnectionError(f"connection closed with {n} bytes missing")
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)


def client(host, port, index, sizes, errors, totals):
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT) as sock:
            total = 0
            for round_, size in enumerate(sizes):
                # distinct bytes per client and round, so crossed streams are caught
                seed = bytes((index * 31 + round_ * 7 + i) & 0xFF for i in range(256))
                block = (seed * (size // 256 + 1))[:size]
                sock.sendall(block)
                back = recv_exactly(sock, size)
                if back != block:
                    first = next(i for i in range(size) if back[i] != block[i])
                    raise ValueError(f"{size}-byte block differs at offset {first}")
                total += size
            totals[index] = total
    except Exception as e:  # reported below, per client
        errors.append(f"client {index}: {type(e).__name__}: {e}")


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 1
    host, port, clients = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    sizes = [int(s) for s in sys.argv[4].split(",")] if len(sys.argv) > 4 else [1, 100, 4096, 65536, 1 << 20]
    errors, totals = [], [0] * clients
    threads = [threading.Thread(target=client, args=(host, port, i, sizes, errors, totals)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        print("net_echo FAIL\n" + "\n".join(errors))
        return 1
    print(f"net_echo OK {clients} {sum(totals)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
