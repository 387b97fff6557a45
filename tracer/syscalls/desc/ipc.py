"""System V and POSIX IPC: shared memory, semaphores, message queues."""

from tracer.syscalls.desc.model import call

CALLS = (
    call(29, "shmget", "key:ipc_key size:ulong shmflg:ipc_flags", "TI"),
    call(30, "shmat", "shmid:int shmaddr:ptr shmflg:shm_flags", "TI|TM|SI", ret="hex"),
    call(31, "shmctl", "shmid:int cmd:ipc_cmd buf:ptr", "TI"),
    call(64, "semget", "key:ipc_key nsems:int semflg:ipc_flags", "TI"),
    call(65, "semop", "semid:int tsops:sembufs(nsops) nsops:uint", "TI"),
    call(66, "semctl", "semid:int semnum:int cmd:ipc_cmd arg:ptr", "TI"),
    call(67, "shmdt", "shmaddr:ptr", "TI|TM|SI"),
    call(68, "msgget", "key:ipc_key msgflg:ipc_flags", "TI"),
    call(69, "msgsnd", "msqid:int msgp:msgbuf(msgsz) msgsz:ulong msgflg:msg_ipc_flags", "TI"),
    call(70, "msgrcv", "msqid:int msgp:msgbuf_out(msgsz) msgsz:ulong msgtyp:long msgflg:msg_ipc_flags", "TI"),
    call(71, "msgctl", "msqid:int cmd:ipc_cmd buf:ptr", "TI"),
    call(220, "semtimedop", "semid:int tsops:sembufs(nsops) nsops:uint timeout:ptr", "TI"),
    call(240, "mq_open", "u_name:str oflag:open_flags mode:mode u_attr:ptr", "TD"),
    call(241, "mq_unlink", "u_name:str", ""),
    call(242, "mq_timedsend", "mqdes:fd u_msg_ptr:buf_in(msg_len) msg_len:ulong msg_prio:uint u_abs_timeout:ptr", "TD"),
    call(243, "mq_timedreceive", "mqdes:fd u_msg_ptr:ptr msg_len:ulong u_msg_prio:ptr u_abs_timeout:ptr", "TD"),
    call(244, "mq_notify", "mqdes:fd u_notification:ptr", "TD"),
    call(245, "mq_getsetattr", "mqdes:fd u_mqstat:ptr u_omqstat:ptr", "TD"),
)
