"""Benchmark: a class hub on this machine. Login to a usable JupyterLab, memory per student, grading.

Run by hand, as root (it creates and removes throwaway accounts `hbench<tag>...`):

    .venv/bin/python bench/bench_hub.py --students 10

It starts `course hub` itself (the command instructors run, with a roster of STUDENTS
throwaway accounts and one instructor, its state, course folder and exchange under a fresh
folder in /var/tmp), then measures, one after another:

* `course hub` from the command to "hub ready" (accounts, course folder, editions, start);
* for each student, cold: the login form POST to JupyterLab's page answering 200 at
  /user/<student>/lab (login, spawn, the OAuth hop; what a browser waits for before it
  draws Lab; about 1-3 s more in Chromium to render it);
* with every student's server up and idle: RSS and PSS of each jupyterhub-singleuser, the
  users' memory cgroups, a kernel's RSS and PSS bare and after importing the course's libraries,
  and the hub's own processes (hub, proxy, idle culler);
* students per GiB (an idle server plus one kernel with the course loaded, both PSS), and how many
  fit on this machine's memory after the hub and a reserve for grading;
* the class graded: the instructor releases a1_softmax, every student fetches and submits
  the reference answer through their server, the instructor collects, root grades with
  --jobs 2 (all sandbox protections on): notebooks per minute.

Then it stops the hub (`course hub --stop`) and removes the accounts and the folder.
"""

import argparse
import csv
import grp
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "hub"))

import _rest
from conftest import ClassHub, throwaway_layout
from fixtures.students import solved

from course_lib.classroom.hub import accounts, process
from course_lib.classroom.hub.config import Hub

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "a1_softmax"
MIB, GIB = 2**20, 2**30
RESERVE_GIB = 2.0  # kept free on the machine for grading (two sandboxed kernels) and the system
READY_TIMEOUT_S = 900  # a first `course hub` builds the course environment (minutes)
# the kernel's own RSS and PSS now (ru_maxrss would not do: it keeps the server's peak across fork and exec)
KERNEL_MEMORY = """
rollup = dict(line.split(":", 1) for line in open("/proc/self/smaps_rollup").read().splitlines()[1:])
print(int(rollup["Rss"].split()[0]) * 1024, int(rollup["Pss"].split()[0]) * 1024)
"""
KERNEL_MEMORY_WITH_COURSE = "import numpy, matplotlib.pyplot, course_lib.layers, course_lib.solver\n" + KERNEL_MEMORY


def _course_hub(args, layout, *extra):
    command = [
        str(REPO / ".venv" / "bin" / "course"),
        "hub",
        "--course",
        str(REPO),
        "--port",
        str(layout.port),
        "--exchange",
        layout.exchange,
        "--state-dir",
        layout.state_dir,
        "--course-dir",
        layout.course_dir,
        "--config-dir",
        layout.config_dir,
        *extra,
    ]
    return command


def _start_hub(args, layout, roster, instructor, log):
    """`course hub` in the background, its output into the open file `log`; returns (Popen, seconds to ready)."""
    start = time.monotonic()
    running = subprocess.Popen(
        _course_hub(args, layout, "--roster", str(roster), "--instructors", instructor),
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    for line in running.stdout:
        log.write(line)
        if line.startswith("hub ready at"):
            return running, time.monotonic() - start
        if time.monotonic() - start > READY_TIMEOUT_S:
            break
    running.kill()
    raise SystemExit(f"`course hub` did not get ready; its output is in {log.name}")


def _passwords(layout):
    with open(layout.state_file(process.PASSWORDS_FILE), newline="") as handle:
        return {row["account"]: row["password"] for row in csv.DictReader(handle)}


def _hub_processes(layout):
    """{name: RSS} of the hub's own processes: jupyterhub and its children, the proxy and the idle culler."""
    config = layout.state_file("jupyterhub_config.py")
    for proc in psutil.process_iter(["cmdline"]):
        if config in (proc.info["cmdline"] or []):
            found = {"hub": proc.memory_info().rss}
            for child in proc.children():
                cmdline = " ".join(child.cmdline())
                if "configurable-http-proxy" in cmdline:
                    found["proxy"] = child.memory_info().rss
                elif "jupyterhub_idle_culler" in cmdline:
                    found["idle culler"] = child.memory_info().rss
            return found
    raise SystemExit(f"no running jupyterhub with {config}")


def _cgroup_usage(layout, account):
    """Bytes the user's memory cgroup holds (their server and kernels, page cache included), or None."""
    for path in (
        f"/sys/fs/cgroup/memory/{layout.course_id}-hub/{account}/memory.usage_in_bytes",
        f"/sys/fs/cgroup/{layout.course_id}-hub/{account}/memory.current",
    ):
        if os.path.isfile(path):
            return int(Path(path).read_text())
    return None


def _summary(values, unit=1, fmt=".1f"):
    values = [v / unit for v in values]
    return (
        f"median {statistics.median(values):{fmt}}, min {min(values):{fmt}}, max {max(values):{fmt}} (n={len(values)})"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10, help="throwaway student accounts (default 10)")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("run as root: the hub creates unix accounts and runs each server as its user")
    tag = secrets.token_hex(2)
    instructor = f"hbench{tag}i1"
    students = [f"hbench{tag}s{n}" for n in range(1, args.students + 1)]
    base = Path(tempfile.mkdtemp(prefix=f"hbench{tag}-", dir="/var/tmp"))
    os.chmod(base, 0o755)
    roster = base / "roster.csv"
    roster.write_text("student_id\n" + "".join(f"{s}\n" for s in students))
    settings, layout = throwaway_layout(base)
    group_existed = layout.instructor_group in {g.gr_name for g in grp.getgrall()}
    running = None
    with open(base / "course-hub.log", "w") as log:
        try:
            running, ready_s = _start_hub(args, layout, roster, instructor, log)
            class_hub = ClassHub(
                layout,
                Hub(layout, tuple(students), (instructor,)),
                settings,
                _passwords(layout),
                base / "course-hub.log",
            )
            print(f"`course hub` with {args.students} new students + 1 instructor: ready in {ready_s:.1f} s")

            login_s, users = [], {}
            for student in students:
                start = time.monotonic()
                users[student] = class_hub.login(student)
                login_s.append(time.monotonic() - start)
            print(f"login -> JupyterLab answering, cold, one student after another: {_summary(login_s)} s")

            time.sleep(5)  # let the servers settle to idle
            servers = {s: _rest.server_process(s).memory_full_info() for s in students}
            rss = [m.rss for m in servers.values()]
            pss = [m.pss for m in servers.values()]
            cgroups = [u for u in (_cgroup_usage(layout, s) for s in students) if u is not None]
            bare = [int(n) for n in class_hub.execute(users[students[0]], KERNEL_MEMORY).split()]
            loaded = [int(n) for n in class_hub.execute(users[students[0]], KERNEL_MEMORY_WITH_COURSE).split()]
            hub_rss = _hub_processes(layout)
            print(f"idle student server (jupyterhub-singleuser, Lab + nbgrader), RSS MiB: {_summary(rss, MIB, '.0f')}")
            print(f"idle student server, PSS MiB: {_summary(pss, MIB, '.0f')}")
            if cgroups:
                print(f"users' memory cgroups (page cache included), MiB: {_summary(cgroups, MIB, '.0f')}")
            print(
                f"a kernel, RSS/PSS MiB: bare {bare[0] / MIB:.0f}/{bare[1] / MIB:.0f}; "
                f"with numpy, matplotlib and course_lib {loaded[0] / MIB:.0f}/{loaded[1] / MIB:.0f}"
            )
            print(
                "the hub's processes, RSS MiB: " + ", ".join(f"{k} {v / MIB:.0f}" for k, v in sorted(hub_rss.items()))
            )
            per_student = statistics.median(pss) + loaded[1]
            total = psutil.virtual_memory().total
            room = total - sum(hub_rss.values()) - RESERVE_GIB * GIB
            print(
                f"students per GiB: {GIB / statistics.median(pss):.1f} with idle servers only, "
                f"{GIB / per_student:.1f} with one kernel each ({per_student / MIB:.0f} MiB a student); "
                f"on this machine ({total / GIB:.1f} GiB, "
                f"{psutil.cpu_count()} cores), keeping {RESERVE_GIB:g} GiB for grading and the system: "
                f"about {room / per_student:.0f} students with a kernel open each"
            )

            course = settings.course_id
            release = class_hub.run_as(instructor, "course", "release", ASSIGNMENT, "--to-exchange")
            if release.returncode != 0:
                raise SystemExit(f"course release failed:\n{release.stdout}\n{release.stderr}")
            answers = _rest.solution_sources(solved(ASSIGNMENT))
            path = f"{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
            submit_s = []
            for user in users.values():
                _rest.fetch(user, course, ASSIGNMENT)
                _rest.write_notebook(user, path, _rest.answered(_rest.read_notebook(user, path), answers))
                start = time.monotonic()
                _rest.submit(user, course, ASSIGNMENT)
                submit_s.append(time.monotonic() - start)
            print(f"submit through the Assignments tab's API: {_summary(submit_s, fmt='.2f')} s")
            for student in students:
                _rest.stop_server(class_hub, student)
            start = time.monotonic()
            collect = class_hub.run_as(instructor, "course", "collect", ASSIGNMENT, "--exchange")
            collect_s = time.monotonic() - start
            start = time.monotonic()
            grade = _rest.course_as_root(class_hub, "grade", ASSIGNMENT, "--jobs", "2")
            grade_s = time.monotonic() - start
            if collect.returncode or grade.returncode:
                raise SystemExit(
                    f"collect or grade failed:\n{collect.stdout}{collect.stderr}\n{grade.stdout}{grade.stderr}"
                )
            print(grade.stdout.strip())
            print(
                f"collect {collect_s:.1f} s; grade {grade_s:.1f} s for {args.students} notebooks with --jobs 2: "
                f"{60 * args.students / grade_s:.0f} notebooks per minute, the command's start-up included "
                f"(load average {os.getloadavg()[0]:.1f} on {psutil.cpu_count()} cores)"
            )
        finally:
            if running is not None:
                subprocess.run(_course_hub(args, layout, "--stop"), capture_output=True)
                running.wait(timeout=120)
            groups = () if group_existed else (layout.instructor_group,)
            accounts.remove_accounts([instructor, *students], groups=groups)
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
