/* Report where a process connects to: the destination address, decoded
 * (e.g. {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("10.0.0.1")}),
 * and the result. Local (AF_UNIX) connections are left out: they are mostly
 * the C library talking to system daemons.
 *
 *   tracer trace PID:bpf/examples/connect_dest.c
 */
#define AF_UNIX 1

TRACER_HANDLER(connect)
{
    u16 family = 0;
    if (tracer_read_user(&family, sizeof(family), tracer_arg(1)) || family == AF_UNIX)
        return 0;
    tracer_emit_buf(1, tracer_arg(2));
    return tracer_submit();
}
