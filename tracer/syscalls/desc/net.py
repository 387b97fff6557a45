"""Sockets: creation, addresses, data, options."""

from tracer.syscalls.desc.model import call

CALLS = (
    call(40, "sendfile", "out_fd:fd in_fd:fd offset:loff_io count:ulong", "TD|TN"),
    call(41, "socket", "family:af type:socket_type protocol:socket_protocol", "TN"),
    call(42, "connect", "fd:fd uservaddr:sockaddr_in(addrlen) addrlen:int", "TN"),
    call(43, "accept", "fd:fd upeer_sockaddr:sockaddr_out(upeer_addrlen) upeer_addrlen:socklen_io", "TN"),
    call(44, "sendto", "fd:fd buff:buf_in(len) len:ulong flags:msg_flags addr:sockaddr_in(addr_len) addr_len:int", "TN"),
    call(45, "recvfrom", "fd:fd ubuf:buf_out size:ulong flags:msg_flags addr:sockaddr_out(addr_len) addr_len:socklen_io", "TN"),
    call(46, "sendmsg", "fd:fd msg:msghdr_in flags:msg_flags", "TN"),
    call(47, "recvmsg", "fd:fd msg:msghdr_out flags:msg_flags", "TN"),
    call(48, "shutdown", "fd:fd how:shut", "TN"),
    call(49, "bind", "fd:fd umyaddr:sockaddr_in(addrlen) addrlen:int", "TN"),
    call(50, "listen", "fd:fd backlog:int", "TN"),
    call(51, "getsockname", "fd:fd usockaddr:sockaddr_out(usockaddr_len) usockaddr_len:socklen_io", "TN"),
    call(52, "getpeername", "fd:fd usockaddr:sockaddr_out(usockaddr_len) usockaddr_len:socklen_io", "TN"),
    call(53, "socketpair", "family:af type:socket_type protocol:socket_protocol usockvec:int_pair", "TN"),
    call(54, "setsockopt", "fd:fd level:sol optname:sockopt_name optval:sockopt_in(optlen) optlen:int", "TN"),
    call(55, "getsockopt", "fd:fd level:sol optname:sockopt_name optval:sockopt_out(optlen) optlen:socklen_io", "TN"),
    call(181, "getpmsg", "arg0:hex arg1:hex arg2:hex arg3:hex arg4:hex", "TN"),
    call(182, "putpmsg", "arg0:hex arg1:hex arg2:hex arg3:hex arg4:hex", "TN"),
    call(288, "accept4", "fd:fd upeer_sockaddr:sockaddr_out(upeer_addrlen) upeer_addrlen:socklen_io flags:sock_flags", "TN"),
    call(299, "recvmmsg", "fd:fd mmsg:ptr vlen:uint flags:uint timeout:ptr", "TN"),
    call(307, "sendmmsg", "fd:fd mmsg:ptr vlen:uint flags:uint", "TN"),
)
