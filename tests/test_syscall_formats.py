"""Syscall arguments from tracefs format files as newer kernels write them (recorded text)."""

from __future__ import annotations

from tracer.syscalls.formats import parse_format
from tracer.syscalls.table import syscall_args

# events/syscalls/sys_enter_openat/format shaped as Debian's 7.2 kernel writes it: its copy of the user
# string follows the arguments as a dynamic (__data_loc) field.
OPENAT_7_2 = """name: sys_enter_openat
ID: 713
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;
\tfield:int dfd;\toffset:16;\tsize:8;\tsigned:0;
\tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;
\tfield:int flags;\toffset:32;\tsize:8;\tsigned:0;
\tfield:umode_t mode;\toffset:40;\tsize:8;\tsigned:0;
\tfield:__data_loc char[] __filename;\toffset:48;\tsize:4;\tsigned:0;
"""


def test_dynamic_fields_are_not_arguments():
    args = syscall_args(parse_format(OPENAT_7_2))
    assert [a.name for a in args] == ["dfd", "filename", "flags", "mode"]
