"""The class hub's spawner: each user's server as their own unix account, in the course environment.

A LocalProcessSpawner (the server runs as the user, started by the root hub) that also

* opens the right folder, and starts in it: an instructor's server the course folder
  (Formgrader and the `course` commands on it), a student's their copy of the student
  edition (where the Assignments tab's Fetch puts assignments: nbgrader fetches into the
  server's working folder, which LocalProcessSpawner would leave at the home);
* gives it the right Jupyter configuration (JUPYTER_CONFIG_PATH): instructor tools on
  or off, the course's Validate button, the course id and exchange;
* enforces `mem_limit` (which LocalProcessSpawner itself ignores) with a memory cgroup per
  user, or RLIMIT_AS where no cgroup can be made (course_lib.classroom.hub.memory).

Imported only by the hub (it needs jupyterhub); configured by jupyterhub_config.py.
"""

import os
import pwd
import resource

from jupyterhub.spawner import LocalProcessSpawner
from traitlets import List, Unicode

from course_lib.classroom.hub.memory import remove_user_cgroup, user_cgroup


class CourseSpawner(LocalProcessSpawner):
    instructors = List(Unicode(), help="account names of the instructors").tag(config=True)
    course_dir = Unicode(help="the instructor's course folder (their servers open it)").tag(config=True)
    student_folder = Unicode(help="a student's copy of the student edition, relative to their home").tag(config=True)
    student_config = Unicode(help="Jupyter configuration folder of students' servers").tag(config=True)
    instructor_config = Unicode(help="Jupyter configuration folder of instructors' servers").tag(config=True)
    cgroup_group = Unicode(help="parent of the users' memory cgroups").tag(config=True)

    _cgroup_procs = None

    @property
    def is_instructor(self):
        return self.user.name in self.instructors

    def get_env(self):
        env = super().get_env()
        config = self.instructor_config if self.is_instructor else self.student_config
        env["JUPYTER_CONFIG_PATH"] = config
        return env

    async def start(self):
        home = pwd.getpwnam(self.user.name).pw_dir
        self.notebook_dir = self.course_dir if self.is_instructor else os.path.join(home, self.student_folder)
        if self.mem_limit:
            self._cgroup_procs = user_cgroup(self.cgroup_group, self.user.name, self.mem_limit)
        return await super().start()

    def make_preexec_fn(self, name):
        demote = super().make_preexec_fn(name)
        procs, limit, folder = self._cgroup_procs, self.mem_limit, self.notebook_dir

        def limit_then_demote():
            # runs in the child, still root: join the user's cgroup (or cap this process) before dropping to the user
            if procs:
                with open(procs, "w") as handle:
                    handle.write(str(os.getpid()))
            elif limit:
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            demote()
            # start in the server's root folder, not the home: nbgrader fetches into the working folder
            os.chdir(folder)

        return limit_then_demote

    async def stop(self, now=False):
        await super().stop(now=now)
        procs = self._cgroup_procs
        if procs and os.path.exists(procs) and not remove_user_cgroup(procs):
            self.log.warning("memory cgroup of %s still has processes; kept", self.user.name)
