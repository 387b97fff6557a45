/* Sockets: unix, inet and netlink sockets, addresses, data, messages, options. */
#include "corpus.h"
#include <arpa/inet.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <sys/un.h>

static void corpus(void)
{
    int sv[2];
    char buf[128];
    syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv);
    syscall(SYS_sendto, sv[0], "ping", 4, 0, NULL, 0);
    syscall(SYS_recvfrom, sv[1], buf, sizeof(buf), 0, NULL, NULL);
    syscall(SYS_sendto, sv[0], "pong", 4, MSG_DONTWAIT | MSG_NOSIGNAL, NULL, 0);
    syscall(SYS_recvfrom, sv[1], buf, 2, MSG_PEEK, NULL, NULL);
    syscall(SYS_recvfrom, sv[1], buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL);
    syscall(SYS_recvfrom, sv[1], buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL);
    struct iovec iov[2] = {{"ab", 2}, {"cde", 3}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
    syscall(SYS_sendmsg, sv[0], &mh, 0);
    struct iovec riov[1] = {{buf, sizeof(buf)}};
    struct msghdr rh = {.msg_iov = riov, .msg_iovlen = 1};
    syscall(SYS_recvmsg, sv[1], &rh, 0);
    syscall(SYS_shutdown, sv[0], SHUT_WR);
    syscall(SYS_shutdown, sv[0], 9);
    syscall(SYS_close, sv[0]);
    syscall(SYS_close, sv[1]);
    int u = syscall(SYS_socket, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    strcpy(sun.sun_path, "sock.1");
    syscall(SYS_bind, u, &sun, sizeof(sun));
    socklen_t sl = sizeof(sun);
    syscall(SYS_getsockname, u, &sun, &sl);
    syscall(SYS_connect, u, &sun, offsetof(struct sockaddr_un, sun_path) + 7);
    syscall(SYS_sendto, u, "dgram", 5, 0, &sun, sizeof(sun));
    struct sockaddr_un from;
    socklen_t fl = sizeof(from);
    syscall(SYS_recvfrom, u, buf, sizeof(buf), 0, &from, &fl);
    syscall(SYS_close, u);
    syscall(SYS_unlink, "sock.1");
    int s = syscall(SYS_socket, AF_INET, SOCK_STREAM, IPPROTO_TCP);
    int one = 1;
    syscall(SYS_setsockopt, s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    syscall(SYS_setsockopt, s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    syscall(SYS_setsockopt, s, SOL_SOCKET, 999, &one, sizeof(one));
    int v;
    socklen_t vl = sizeof(v);
    syscall(SYS_getsockopt, s, SOL_SOCKET, SO_TYPE, &v, &vl);
    vl = sizeof(v);
    syscall(SYS_getsockopt, s, SOL_SOCKET, SO_RCVBUF, &v, &vl);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(47411)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    syscall(SYS_bind, s, &sin, sizeof(sin));
    syscall(SYS_listen, s, 5);
    int c = syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    syscall(SYS_connect, c, &sin, sizeof(sin));
    struct sockaddr_in peer;
    socklen_t pl = sizeof(peer);
    int a = syscall(SYS_accept4, s, &peer, &pl, SOCK_CLOEXEC);
    pl = sizeof(peer);
    syscall(SYS_getpeername, a, &peer, &pl);
    syscall(SYS_fcntl, s, F_SETFL, O_NONBLOCK);
    syscall(SYS_accept, s, NULL, NULL);
    syscall(SYS_sendto, a, "x", 1, 0, NULL, 0);
    syscall(SYS_close, a);
    syscall(SYS_close, c);
    syscall(SYS_close, s);
    syscall(SYS_socket, AF_INET6, SOCK_DGRAM, 0);
    syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 0);
    syscall(SYS_socket, 99, SOCK_STREAM, 0);
    syscall(SYS_socket, AF_INET, 99, 0);
    syscall(SYS_connect, -1, NULL, 0);
    syscall(SYS_bind, -1, BAD, 16);
    syscall(SYS_listen, -1, 0);
    syscall(SYS_accept, -1, NULL, NULL);
    syscall(SYS_getsockname, -1, NULL, NULL);
    syscall(SYS_sendmsg, -1, NULL, 0);
    syscall(SYS_recvmsg, -1, NULL, 0);
    syscall(SYS_sendmmsg, -1, NULL, 0, 0);
    syscall(SYS_recvmmsg, -1, NULL, 0, 0, NULL);
    int f = syscall(SYS_open, "sf", O_RDWR | O_CREAT | O_TRUNC, 0600);
    syscall(SYS_write, f, "sendfile", 8);
    int g = syscall(SYS_open, "sg", O_RDWR | O_CREAT | O_TRUNC, 0600);
    off_t off = 0;
    syscall(SYS_sendfile, g, f, &off, 4);
    syscall(SYS_sendfile, g, f, NULL, 4);
    syscall(SYS_sendfile, -1, f, NULL, 4);
    syscall(SYS_close, f);
    syscall(SYS_close, g);
    syscall(SYS_unlink, "sf");
    syscall(SYS_unlink, "sg");
}
