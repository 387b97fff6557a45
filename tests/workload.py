#!/usr/bin/python3
"""A process tests drive over stdin: each command runs one syscall and answers on stdout.

  getppid | open PATH | forkopen PATH (a child opens PATH and exits; answers its PID)
  | net (socket + connect to a closed local port) | exit
"""

import os
import sys


def main() -> None:
    out = sys.stdout
    for line in sys.stdin:
        cmd, _, arg = line.strip().partition(" ")
        if cmd == "getppid":
            os.getppid()
        elif cmd == "open":
            try:
                os.close(os.open(arg, os.O_RDONLY))
            except OSError:
                pass
        elif cmd == "forkopen":  # a child opens ARG then exits; answers with the child's PID
            pid = os.fork()
            if pid == 0:
                try:
                    os.close(os.open(arg, os.O_RDONLY))
                finally:
                    os._exit(0)
            os.waitpid(pid, 0)
            out.write(f"{pid}\n")
            out.flush()
            continue
        elif cmd == "net":  # socket + connect to a closed local port (ECONNREFUSED)
            import socket

            with socket.socket() as s:
                try:
                    s.connect(("127.0.0.1", 9))
                except OSError:
                    pass
        elif cmd == "exit":
            return
        out.write("ok\n")
        out.flush()


if __name__ == "__main__":
    main()
