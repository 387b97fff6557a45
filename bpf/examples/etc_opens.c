/* Report only the files opened under /etc, with their path and the result.
 *
 *   tracer trace PID:bpf/examples/etc_opens.c
 */
TRACER_HANDLER(openat)
{
    if (!tracer_str_starts(1, "/etc/"))
        return 0;
    tracer_emit_str(1);
    return tracer_submit();
}
