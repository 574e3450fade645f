"""The memory limit of each hub user: everything their server and kernels use together.

JupyterHub's LocalProcessSpawner only passes `mem_limit` on as MEM_LIMIT; it enforces
nothing. The spawner puts each user's server (and so every kernel it starts) into a
memory cgroup of its own with that limit, so a student who allocates too much is stopped
by the kernel's OOM killer without touching the others:

* cgroup v2 when /sys/fs/cgroup is a writable cgroup2 tree with the memory controller;
* cgroup v1 when /sys/fs/cgroup/memory is a writable memory hierarchy;
* otherwise RLIMIT_AS on each process (server and each kernel separately, as the grading
  sandbox does): an allocation beyond it raises MemoryError.
"""

import os

CGROUP_ROOT = "/sys/fs/cgroup"


def _writable(path):
    return os.path.isdir(path) and os.access(path, os.W_OK)


def cgroup_kind(root=CGROUP_ROOT):
    """ "cgroup v2", "cgroup v1" or None: the memory cgroup this machine lets root create."""
    controllers = os.path.join(root, "cgroup.controllers")
    if os.path.isfile(controllers) and _writable(root):
        with open(controllers) as handle:
            if "memory" in handle.read().split():
                return "cgroup v2"
    hierarchy = os.path.join(root, "memory")
    if os.path.isfile(os.path.join(hierarchy, "memory.limit_in_bytes")) and _writable(hierarchy):
        return "cgroup v1"
    return None


def enforcement(root=CGROUP_ROOT):
    """One line for the run summary: how the limit is enforced here."""
    kind = cgroup_kind(root)
    if kind:
        return f"{kind} memory controller (server and kernels of a user together)"
    return "RLIMIT_AS on each process (no writable memory cgroup here)"


def cgroup_folder(group, user, root=CGROUP_ROOT):
    """The folder of the memory cgroup <group>/<user> on this machine (existing or not), or None without cgroups."""
    kind = cgroup_kind(root)
    if kind is None:
        return None
    return os.path.join(root, group, user) if kind == "cgroup v2" else os.path.join(root, "memory", group, user)


def user_cgroup(group, user, limit_bytes, root=CGROUP_ROOT):
    """Create (or reuse) the memory cgroup <group>/<user> limited to `limit_bytes`.

    Returns the path of its cgroup.procs file (write a pid there to put that process in),
    or None when this machine has no writable memory cgroup.
    """
    kind = cgroup_kind(root)
    if kind is None:
        return None
    folder = cgroup_folder(group, user, root)
    if kind == "cgroup v2":
        parent = os.path.dirname(folder)
        os.makedirs(parent, exist_ok=True)
        with open(os.path.join(parent, "cgroup.subtree_control"), "w") as handle:
            handle.write("+memory")
    limit_file = "memory.max" if kind == "cgroup v2" else "memory.limit_in_bytes"
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, limit_file), "w") as handle:
        handle.write(str(int(limit_bytes)))
    return os.path.join(folder, "cgroup.procs")


def remove_user_cgroup(procs_path):
    """Remove the cgroup whose cgroup.procs is `procs_path`, once no process is left in it.

    Returns whether it was removed (a cgroup with processes still in it stays).
    """
    folder = os.path.dirname(procs_path)
    with open(procs_path) as handle:
        if handle.read().strip():
            return False
    os.rmdir(folder)
    return True
