"""The built-in actions of the trace language, gathered from the modules that declare them by subject.

===========================================  ===================  =================================================
line                                         record               fields (units)
===========================================  ===================  =================================================
``<a> init [host]``                          :class:`Init`        host (None: placed by the deployment)
``<a> compute <flops> [priority]``           :class:`Compute`     flops (``1e9``, ``1Gf``); priority > 0, default 1
``<a> send <dst> <bytes>``                   :class:`Send`        dst, size (bytes: ``1e6``, ``1MB``, ``1GiB``)
``<a> recv <src>``                           :class:`Recv`        src
``<a> isend <dst> <bytes>``                  :class:`Isend`       dst, size (bytes)
``<a> irecv <src>``                          :class:`Irecv`       src
``<a> wait``                                 :class:`Wait`        (completes the oldest pending request)
``<a> waitall``                              :class:`WaitAll`     (completes every pending request)
``<a> sleep <seconds>``                      :class:`Sleep`       duration (s: ``1.5``, ``30ms``)
``<a> finalize``                             :class:`Finalize`    (no-op, SimGrid compatibility)
``<a> set_pstate <host> <pstate>``           :class:`SetPstate`   host, pstate (whole number from 0)
``<a> vm_create <vm> <pm> [key=value ...]``  :class:`VmCreate`    vm, pm, config (a :class:`~replay.vm.VmConfig`)
``<a> vm_start <vm>``                        :class:`VmStart`     vm
``<a> vm_suspend <vm>``                      :class:`VmSuspend`   vm
``<a> vm_resume <vm>``                       :class:`VmResume`    vm
``<a> vm_save <vm>``                         :class:`VmSave`      vm
``<a> vm_restore <vm>``                      :class:`VmRestore`   vm
``<a> vm_shutdown <vm>``                     :class:`VmShutdown`  vm
``<a> vm_destroy <vm>``                      :class:`VmDestroy`   vm
``<a> vm_migrate <vm> <dst_pm>``             :class:`VmMigrate`   vm, dst
``<a> vm_set_bound <vm> <flops/s>``          :class:`VmSetBound`  vm, bound (flop/s: ``2Gf``; 0 = None, no bound)
===========================================  ===================  =================================================

``vm_create`` options, each at most once, are the fields of :class:`~replay.vm.VmConfig` (which holds their
defaults): ``cores`` integer >= 1; ``ram`` size (the config's ``ramsize``); ``dp_intensity`` fraction in [0, 1];
``working_set`` size <= ram; ``mig_speed`` bandwidth, ``125MBps`` or ``1Gbps``; ``max_downtime`` time > 0;
``bound`` speed (0 = no bound, as SimGrid's solver treats a non-positive bound); ``devsize`` size;
``skip_stage1``, ``skip_stage2`` yes/no/true/false/1/0; ``xfer_cpu_overhead``, ``dpt_cpu_overhead`` flops per
byte >= 0. Quantities take SimGrid's units by kind (see :mod:`replay.units`); a bare number is in the base unit
(flops, bytes, seconds, bytes/s, flop/s). Negative, infinite and NaN amounts are errors.

Quantities take SimGrid's units by kind (see :mod:`replay.units`); a bare number is in the base unit (flops,
bytes, seconds, bytes/s, flop/s). Negative, infinite and NaN amounts are errors. ``vm_create``'s options are
described in :mod:`replay.trace.vm_actions`.
"""

from __future__ import annotations

from replay.trace import actor_actions, host_actions, vm_actions
from replay.trace.records import Registry

BUILTIN = Registry([*actor_actions.ACTIONS, *host_actions.ACTIONS, *vm_actions.ACTIONS])
"""The actions of SimGrid's replay format and ours (the table above), in that order."""
