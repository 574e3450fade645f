"""`course hub` without a hub: the roster, the instructors, the layout, the configuration and its secrets,
the memory limit's cgroup, and bad input."""

import ast
import os
import stat
from pathlib import Path

import pytest

from course_lib import ONE_THREAD_ENV, cli
from course_lib.classroom.hub import memory
from course_lib.classroom.hub.config import (
    ADMIN_TOKEN,
    COOKIE_SECRET,
    Hub,
    ensure_secret,
    hub_config_text,
    write_hub_config,
)
from course_lib.classroom.hub.environment import package_digest, requirements_digest
from course_lib.classroom.hub.layout import HubLayout, _course_toml
from course_lib.classroom.hub.roster import Student, parse_instructors, read_roster


def _roster(tmp_path, text):
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _layout(tmp_path, port=18000):
    return HubLayout("tnn101", str(tmp_path / "exchange"), port, state_dir=str(tmp_path / "state"))


def test_roster_keeps_ids_names_and_emails_in_file_order(tmp_path):
    path = _roster(tmp_path, "\ufeffstudent_id,name,email,section\nzoe,Zoe Z,z@u.edu,A\nada,,a@u.edu,B\n")
    assert read_roster(path) == (Student("zoe", "Zoe Z", "z@u.edu"), Student("ada", "", "a@u.edu"))


def test_roster_with_only_the_id_column(tmp_path):
    assert read_roster(_roster(tmp_path, "student_id\ns1\ns2\n")) == (Student("s1"), Student("s2"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,name\ns1,A\n", "no 'student_id' column"),
        ("student_id\n", "no students"),
        ("student_id\ns1\ns1\n", "'s1' is already on line 2"),
        ("student_id\nAda\n", "line 2: 'Ada' is not a valid account name"),
        ("student_id\n1st\n", "'1st' is not a valid account name"),
        ("student_id\n\n", "no students"),
        ("student_id\na/b\n", "'a/b' is not a valid account name"),
        ("student_id\n" + "a" * 33 + "\n", "is not a valid account name"),
    ],
)
def test_bad_rosters_are_refused_naming_file_and_line(tmp_path, text, message):
    path = _roster(tmp_path, text)
    with pytest.raises(ValueError, match=message) as error:
        read_roster(path)
    assert str(path) in str(error.value)


def test_instructors_split_on_commas_or_spaces_and_must_not_be_students():
    students = (Student("s1"), Student("s2"))
    assert parse_instructors("prof, ta1 ta2", students) == ("prof", "ta1", "ta2")
    for text, message in [
        ("", "name at least one"),
        (None, "name at least one"),
        ("prof,prof", "given twice"),
        ("prof,s2", "s2 also in the roster"),
        ("Prof", "not a valid account name"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_instructors(text, students)


def test_layout_defaults_follow_the_course_id():
    layout = HubLayout("nn202", "/srv/x", 9000)
    assert layout.venv == "/opt/nn202-hub/venv"
    assert layout.state_dir == "/var/lib/nn202-hub"
    assert layout.course_dir == "/srv/nn202-hub/course"
    assert layout.instructor_group == "nn202-instructors"
    assert layout.jupyter_config("student") == "/opt/nn202-hub/jupyter/student"
    assert layout.student_folder("/home/s1") == "/home/s1/nn202"
    assert layout.url == "http://127.0.0.1:9000"


@pytest.mark.parametrize("port", [0, 65534, "8000", 8000.0])
def test_layout_refuses_a_bad_port(port):
    with pytest.raises(ValueError, match="--port"):
        HubLayout("tnn101", "/srv/x", port)


def test_config_is_valid_python_and_names_the_hub_as_given(tmp_path):
    hub = Hub(_layout(tmp_path), ("s1", "s2"), ("prof",), memory_limit="1.5G", idle_timeout=600, cull_every=60)
    text = hub_config_text(hub)
    ast.parse(text)
    assert "c.JupyterHub.bind_url = 'http://127.0.0.1:18000'" in text
    assert "c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:18001'" in text
    assert "c.JupyterHub.hub_bind_url = 'http://127.0.0.1:18002'" in text
    assert "c.JupyterHub.authenticator_class = 'pam'" in text
    assert "c.Authenticator.admin_users = {'prof'}" in text
    assert "c.Spawner.mem_limit = '1.5G'" in text
    assert "'--timeout=600'" in text and "'--cull-every=60'" in text
    assert "/opt/tnn101-hub/venv/bin/jupyterhub-singleuser" in text
    for name, value in ONE_THREAD_ENV.items():
        assert f"'{name}': '{value}'" in text
    allowed = next(line for line in text.splitlines() if line.startswith("c.Authenticator.allowed_users"))
    assert ast.literal_eval(allowed.split(" = ", 1)[1]) == {"s1", "s2", "prof"}


def test_config_loads_as_jupyterhub_would_and_reads_the_token_from_its_file(tmp_path):
    hub = Hub(_layout(tmp_path), ("s1",), ("prof",))
    os.makedirs(hub.layout.state_dir)
    path = write_hub_config(hub)
    token = Path(hub.layout.state_file(ADMIN_TOKEN)).read_text().strip()
    assert token not in Path(path).read_text()

    exec(compile(Path(path).read_text(), path, "exec"), {"get_config": lambda: _Config()})
    assert _Config.last["JupyterHub"]["services"][0] == {"name": "course-admin", "api_token": token}


class _Config:
    """Stands in for traitlets' config object: records c.Section.name = value."""

    last = None

    def __init__(self):
        _Config.last = self._sections = {}

    def __getattr__(self, section):
        sections = self.__dict__["_sections"]
        return _Section(sections.setdefault(section, {}))


class _Section:
    def __init__(self, values):
        self.__dict__["_values"] = values

    def __setattr__(self, name, value):
        self._values[name] = value


def test_config_loads_the_instructors_local_config_last(tmp_path):
    hub = Hub(_layout(tmp_path), ("s1",), ("prof",))
    os.makedirs(hub.layout.state_dir)
    path = write_hub_config(hub)
    loaded = []
    namespace = {"get_config": lambda: _Config(), "load_subconfig": loaded.append}
    exec(compile(Path(path).read_text(), path, "exec"), dict(namespace))
    assert loaded == []
    Path(hub.layout.state_file("local_config.py")).write_text("c.JupyterHub.authenticator_class = 'generic-oauth'\n")
    exec(compile(Path(path).read_text(), path, "exec"), dict(namespace))
    assert loaded == [hub.layout.state_file("local_config.py")]


def test_environment_digests_do_not_depend_on_the_working_folder(tmp_path, monkeypatch):
    repo = Path(__file__).resolve().parents[2]
    digests = requirements_digest(str(repo)), package_digest(str(repo))
    monkeypatch.chdir(tmp_path)
    assert (requirements_digest(str(repo)), package_digest(str(repo))) == digests
    (tmp_path / "course_lib").mkdir()
    (tmp_path / "course_lib" / "x.py").write_text("x = 1\n")
    first = package_digest(str(tmp_path))
    (tmp_path / "course_lib" / "x.py").write_text("x = 2\n")
    assert package_digest(str(tmp_path)) != first


def test_secrets_are_generated_once_with_mode_0600(tmp_path):
    hub = Hub(_layout(tmp_path), ("s1",), ("prof",))
    os.makedirs(hub.layout.state_dir)
    write_hub_config(hub)
    first = {name: Path(hub.layout.state_file(name)).read_text() for name in (ADMIN_TOKEN, COOKIE_SECRET)}
    write_hub_config(hub)
    for name, text in first.items():
        path = hub.layout.state_file(name)
        assert Path(path).read_text() == text, f"{name} changed on the second start"
        assert len(text.strip()) == 64
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(hub.layout.state_file("jupyterhub_config.py")).st_mode) == 0o600
    assert first[ADMIN_TOKEN] != first[COOKIE_SECRET]


def test_ensure_secret_fixes_a_too_open_mode(tmp_path):
    path = tmp_path / "secret"
    path.write_text("kept\n")
    os.chmod(path, 0o644)
    ensure_secret(str(path))
    assert path.read_text() == "kept\n"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"memory_limit": "2GB"}, "memory limit"),
        ({"memory_limit": "lots"}, "memory limit"),
        ({"memory_limit": 2}, "memory limit"),
        ({"idle_timeout": 0}, "idle_timeout"),
        ({"cull_every": True}, "cull_every"),
    ],
)
def test_hub_refuses_bad_limits(tmp_path, changes, message):
    with pytest.raises(ValueError, match=message):
        Hub(_layout(tmp_path), ("s1",), ("prof",), **changes)


def test_course_toml_gets_the_hubs_exchange_and_keeps_its_other_keys():
    text = "# comment on exchange_root\n[course]\nexchange_root = '/old'\nlate_penalty_per_day = 0.2\n\n[due]\n"
    rewritten = _course_toml(text, "/var/tmp/x/exchange")
    assert "exchange_root = '/var/tmp/x/exchange'" in rewritten
    assert "/old" not in rewritten
    assert "late_penalty_per_day = 0.2" in rewritten and "# comment on exchange_root" in rewritten
    assert _course_toml("[due]\n", "/e").startswith("[course]\nexchange_root = '/e'\n")


def _fake_cgroup_v1(root):
    (root / "memory").mkdir(parents=True)
    (root / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")


def test_memory_cgroup_v1_gets_the_users_limit(tmp_path):
    _fake_cgroup_v1(tmp_path)
    assert memory.cgroup_kind(str(tmp_path)) == "cgroup v1"
    procs = memory.user_cgroup("tnn101-hub", "s1", 2 * 1024**3, root=str(tmp_path))
    assert procs == str(tmp_path / "memory" / "tnn101-hub" / "s1" / "cgroup.procs")
    assert (tmp_path / "memory" / "tnn101-hub" / "s1" / "memory.limit_in_bytes").read_text() == str(2 * 1024**3)


def test_memory_cgroup_v2_enables_the_controller_for_its_children(tmp_path):
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    assert memory.cgroup_kind(str(tmp_path)) == "cgroup v2"
    procs = memory.user_cgroup("tnn101-hub", "s1", 1024**3, root=str(tmp_path))
    assert (tmp_path / "tnn101-hub" / "cgroup.subtree_control").read_text() == "+memory"
    assert (tmp_path / "tnn101-hub" / "s1" / "memory.max").read_text() == str(1024**3)
    assert procs.endswith("tnn101-hub/s1/cgroup.procs")


def test_without_a_memory_cgroup_the_limit_falls_back_to_rlimit(tmp_path):
    (tmp_path / "cgroup.controllers").write_text("cpu pids\n")
    assert memory.cgroup_kind(str(tmp_path)) is None
    assert memory.user_cgroup("g", "s1", 1024, root=str(tmp_path)) is None
    assert memory.enforcement(str(tmp_path)).startswith("RLIMIT_AS")


def test_a_cgroup_with_processes_is_kept(tmp_path):
    _fake_cgroup_v1(tmp_path)
    procs = memory.user_cgroup("g", "s1", 1024, root=str(tmp_path))
    with open(procs, "w") as handle:
        handle.write("4242\n")
    assert memory.remove_user_cgroup(procs) is False
    assert os.path.isdir(os.path.dirname(procs))


def test_course_hub_without_a_roster_says_what_it_needs(capsys):
    assert cli.main(["hub", "--course", "."]) == 2
    assert "--roster" in capsys.readouterr().err


def test_course_hub_with_a_bad_roster_names_it(tmp_path, capsys):
    path = _roster(tmp_path, "name\nAda\n")
    assert cli.main(["hub", "--roster", str(path), "--instructors", "prof"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "student_id" in err


def test_course_hub_stop_when_nothing_runs(tmp_path, capsys):
    assert cli.main(["hub", "--stop", "--state-dir", str(tmp_path)]) == 0
    assert "was not running" in capsys.readouterr().out
