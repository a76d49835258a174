"""A seccomp filter for the bubblewrap jail: system calls no ground-truth program needs, and
that widen the kernel's attack surface, fail with EPERM.

bwrap loads the filter (`--seccomp FD`, a compiled classic-BPF program) just before it
starts the worker, so the worker, the zygote and every run live under it. Refused: ptrace
and cross-process memory access, mounting and namespaces, module and kexec loading, bpf,
perf events, userfaultfd, io_uring, the keyring, handle-based opens (a classic container
escape), and every x32-ABI call. Only x86_64 has a table here; elsewhere the jail runs
without a filter and says so in `LocalSandbox.isolation`.
"""

from __future__ import annotations

import platform
import struct

AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000
SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_ALLOW = 0x7FFF0000
EPERM = 1
BPF_LD_W_ABS, BPF_JEQ_K, BPF_JGE_K, BPF_RET_K = 0x20, 0x15, 0x35, 0x06
ARCH_OFFSET, NR_OFFSET = 4, 0  # in struct seccomp_data

# name -> x86_64 number (arch/x86/entry/syscalls/syscall_64.tbl)
REFUSED_X86_64: dict[str, int] = {
    "ptrace": 101,
    "syslog": 103,
    "personality": 135,
    "vhangup": 153,
    "pivot_root": 155,
    "chroot": 161,
    "acct": 163,
    "mount": 165,
    "umount2": 166,
    "swapon": 167,
    "swapoff": 168,
    "reboot": 169,
    "sethostname": 170,
    "setdomainname": 171,
    "iopl": 172,
    "ioperm": 173,
    "init_module": 175,
    "delete_module": 176,
    "quotactl": 179,
    "lookup_dcookie": 212,
    "kexec_load": 246,
    "add_key": 248,
    "request_key": 249,
    "keyctl": 250,
    "unshare": 272,
    "perf_event_open": 298,
    "name_to_handle_at": 303,
    "open_by_handle_at": 304,
    "setns": 308,
    "process_vm_readv": 310,
    "process_vm_writev": 311,
    "finit_module": 313,
    "kexec_file_load": 320,
    "bpf": 321,
    "userfaultfd": 323,
    "io_uring_setup": 425,
    "io_uring_enter": 426,
    "io_uring_register": 427,
    "open_tree": 428,
    "move_mount": 429,
    "fsopen": 430,
    "fsconfig": 431,
    "fsmount": 432,
    "fspick": 433,
    "mount_setattr": 442,
}


def _instruction(code: int, jump_true: int, jump_false: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jump_true, jump_false, k)


def filter_program(machine: str | None = None) -> bytes | None:
    """The compiled filter for this machine, or None where there is no table for it."""
    if (machine or platform.machine()) != "x86_64":
        return None
    refused = sorted(REFUSED_X86_64.values())
    # Layout: check arch, load nr, x32 check, one jeq per refused call, allow, refuse.
    count = len(refused)
    program = [
        _instruction(BPF_LD_W_ABS, 0, 0, ARCH_OFFSET),
        _instruction(BPF_JEQ_K, 1, 0, AUDIT_ARCH_X86_64),
        _instruction(BPF_RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS),
        _instruction(BPF_LD_W_ABS, 0, 0, NR_OFFSET),
        _instruction(BPF_JGE_K, count + 1, 0, X32_SYSCALL_BIT),  # to the refusal
    ]
    for position, number in enumerate(refused):
        to_refusal = count - position  # skip the remaining jeqs and the allow
        program.append(_instruction(BPF_JEQ_K, to_refusal, 0, number))
    program.append(_instruction(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW))
    program.append(_instruction(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | EPERM))
    return b"".join(program)
