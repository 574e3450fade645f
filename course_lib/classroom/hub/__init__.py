"""`course hub`: the course for a whole class on one machine's JupyterHub.

One module per concern:

* roster: the class list (a CSV with a `student_id` column) and the instructors' names;
* accounts: the unix accounts (one per person, homes 0700) and the instructors' group;
* layout: where everything lives (`HubLayout`), and the folders `course hub` prepares:
  the instructor's course folder, each student's copy of the student edition, the exchange;
* environment: the one shared, read-only course virtualenv every server and kernel runs in;
* memory: the per-user memory limit, enforced by a cgroup (v2 or v1) or else RLIMIT_AS;
* config: the jupyterhub_config.py written into the root-only state folder, and its secrets;
* process: starting, waiting for and stopping the hub;
* spawner: the JupyterHub spawner (imported by the hub only: it needs jupyterhub).
"""
