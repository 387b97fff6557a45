"""Other shapes of a trace: strace -f -ttt -T text, CTF (LTTng kernel conventions),
Perfetto protobuf, and strace -c style summaries."""
