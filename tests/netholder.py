#!/usr/bin/python3
"""A process tests run inside a network namespace that holds sockets from before a trace:
it connects to HOST:PORT and listens on a port of its own, prints its PID and that port,
waits for a line on stdin, then talks over the old connection, accepts one connection on
the old listener and makes one over its own loopback, and exits. Bounded: every wait has
a timeout."""

import os
import socket
import sys


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    old = socket.create_connection((host, port), timeout=5)
    listener = socket.create_server(("0.0.0.0", 0))
    listener.settimeout(5)
    print(os.getpid(), listener.getsockname()[1], flush=True)
    sys.stdin.readline()
    old.sendall(b"ping\n")
    old.recv(64)
    conn, _ = listener.accept()
    with conn:
        conn.sendall(conn.recv(64))
    with socket.create_server(("127.0.0.1", 0)) as lo_srv:
        lo_srv.settimeout(5)
        with socket.create_connection(lo_srv.getsockname(), timeout=5) as c:
            peer, _ = lo_srv.accept()
            with peer:
                c.sendall(b"over loopback\n")
                peer.sendall(peer.recv(64))
                c.recv(64)
    old.close()
    print("done", flush=True)


if __name__ == "__main__":
    main()
