#!/usr/bin/python3
"""A client tests run inside a network namespace: prints its PID, waits for a line on
stdin, then makes COUNT TCP requests to HOST:PORT (and one UDP datagram to HOST:PORT+1
with --udp), one every 0.2 s, and exits. Bounded: it stops by itself."""

import os
import socket
import sys
import time


def main() -> None:
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print(os.getpid(), flush=True)
    sys.stdin.readline()
    for _ in range(count):
        try:
            with socket.create_connection((host, port), timeout=2) as s:
                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                while s.recv(4096):
                    pass
        except OSError:
            pass
        time.sleep(0.2)
    if "--udp" in sys.argv:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.sendto(b"ping", (host, port + 1))
    print("done", flush=True)


if __name__ == "__main__":
    main()
