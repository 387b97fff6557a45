"""System V and POSIX IPC: shared memory, semaphores, message queues."""

from tracer.syscalls.desc.model import call

CALLS = (
    call(29, "shmget", "key:int size:ulong shmflg:int", "TI"),
    call(30, "shmat", "shmid:int shmaddr:ptr shmflg:int", "TI|TM|SI", ret="hex"),
    call(31, "shmctl", "shmid:int cmd:int buf:ptr", "TI"),
    call(64, "semget", "key:int nsems:int semflg:int", "TI"),
    call(65, "semop", "semid:int tsops:ptr nsops:uint", "TI"),
    call(66, "semctl", "semid:int semnum:int cmd:int arg:ulong", "TI"),
    call(67, "shmdt", "shmaddr:ptr", "TI|TM|SI"),
    call(68, "msgget", "key:int msgflg:int", "TI"),
    call(69, "msgsnd", "msqid:int msgp:ptr msgsz:ulong msgflg:int", "TI"),
    call(70, "msgrcv", "msqid:int msgp:ptr msgsz:ulong msgtyp:long msgflg:int", "TI"),
    call(71, "msgctl", "msqid:int cmd:int buf:ptr", "TI"),
    call(220, "semtimedop", "semid:int tsops:ptr nsops:uint timeout:ptr", "TI"),
    call(240, "mq_open", "u_name:ptr oflag:int mode:mode u_attr:ptr", "TD"),
    call(241, "mq_unlink", "u_name:ptr", ""),
    call(242, "mq_timedsend", "mqdes:fd u_msg_ptr:ptr msg_len:ulong msg_prio:uint u_abs_timeout:ptr", "TD"),
    call(243, "mq_timedreceive", "mqdes:fd u_msg_ptr:ptr msg_len:ulong u_msg_prio:ptr u_abs_timeout:ptr", "TD"),
    call(244, "mq_notify", "mqdes:fd u_notification:ptr", "TD"),
    call(245, "mq_getsetattr", "mqdes:fd u_mqstat:ptr u_omqstat:ptr", "TD"),
)
