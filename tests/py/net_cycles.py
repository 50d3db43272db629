"""Connect/disconnect cycles for tests/net.rs: opens and closes COUNT connections to
host:port one after another (each closed before the next opens).

usage: net_cycles.py <host> <port> <count>
Prints "net_cycles OK <count>" and exits 0, or explains and exits 1."""

import socket
import sys

TIMEOUT = 60


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 1
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    for i in range(count):
        try:
            sock = socket.create_connection((host, port), timeout=TIMEOUT)
        except OSError as e:
            print(f"net_cycles FAIL: connection {i}: {e}")
            return 1
        sock.close()
    print(f"net_cycles OK {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
