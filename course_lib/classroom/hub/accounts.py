"""Unix accounts for the hub's users: created when missing, homes closed to everyone else.

The hub authenticates against these accounts (PAM) and runs each user's server as its
account. An account that already exists keeps its password; a new one gets a generated
password, which `ensure_accounts` returns for the state folder's passwords file (0600),
never for printing. Debian's `useradd -m` makes homes 0755: every home is set to 0700,
so students cannot read each other's work.
"""

import grp
import os
import pwd
import secrets
import subprocess

HOME_MODE = 0o700


def _run(command, stdin=None):
    result = subprocess.run(command, input=stdin, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:2])} failed: {result.stderr.strip() or result.stdout.strip()}")


def account_exists(name):
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def ensure_group(group):
    """Create the unix group `group` when it does not exist; returns its gid."""
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        _run(["groupadd", group])
        return grp.getgrnam(group).gr_gid


def ensure_accounts(names, groups=()):
    """Make sure each of `names` is a unix account with a 0700 home, member of each of `groups`.

    Returns {name: generated password} for the accounts created now (existing ones keep theirs).
    """
    created = {}
    for name in names:
        if not account_exists(name):
            _run(["useradd", "--create-home", "--shell", "/bin/bash", name])
            password = secrets.token_urlsafe(12)
            _run(["chpasswd"], stdin=f"{name}:{password}\n")
            created[name] = password
        for group in groups:
            if name not in grp.getgrnam(group).gr_mem:
                _run(["usermod", "--append", "--groups", group, name])
        os.chmod(pwd.getpwnam(name).pw_dir, HOME_MODE)
    return created


def set_password(name, password):
    """Set the password of account `name` (tests use it to log in with known passwords)."""
    _run(["chpasswd"], stdin=f"{name}:{password}\n")


def remove_accounts(names, groups=()):
    """Remove the accounts `names` with their homes, then the `groups` (for tests' throwaway accounts)."""
    for name in names:
        if account_exists(name):
            # their servers may still be stopping; userdel refuses while the user has processes
            subprocess.run(["pkill", "--uid", name, "--signal", "KILL"], capture_output=True)
            _run(["userdel", "--remove", name])
    for group in groups:
        if group in {g.gr_name for g in grp.getgrall()}:
            _run(["groupdel", group])
