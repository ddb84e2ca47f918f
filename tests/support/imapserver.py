"""A real IMAP server on loopback for the tests: Dovecot where installed, pymap otherwise.

`MAILPROC_TEST_IMAP=pymap` forces pymap even where Dovecot exists, so both paths can be run.
Dovecot needs root here (it switches to an unprivileged mail user), so without root we use pymap.
"""

from __future__ import annotations

import contextlib
import email
import grp
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import TracebackType

from imapclient import IMAPClient

from tests.support.net import free_port, wait_for_greeting

MAIL_USER = "vmail"
START_TIMEOUT = 20.0

_DOVECOT_CONF = """\
base_dir = {tmp}/run
state_dir = {tmp}/state
log_path = {tmp}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:~/Maildir
mail_fsync = never
# Dovecot notices new mail during IDLE by inotify; this bounds the wait where that is missing.
mailbox_idle_check_interval = 1 secs
# Tests log in with a wrong password on purpose: no failure delay (and no penalty, below).
auth_failure_delay = 0 secs
# Any user name with the one password is an account of its own (tests that count logins
# or need two mailboxes just pick a new name).
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={user} gid={user} home={tmp}/home/%u
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
"""


def _tls_settings(tmp: Path) -> str:
    return f"ssl = yes\nssl_cert = <{tmp}/cert.pem\nssl_key = <{tmp}/key.pem"


def make_certificate(directory: Path, host: str) -> Path:
    """A self-signed certificate for `host` (an IP address) as cert.pem + key.pem; returns cert."""
    cert = directory / "cert.pem"
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    subject = ["-subj", f"/CN={host}", "-addext", f"subjectAltName=IP:{host}"]
    out = ["-keyout", str(directory / "key.pem"), "-out", str(cert)]
    subprocess.run(
        ["openssl", "req", "-x509", "-days", "2", *key, *subject, *out],
        check=True,
        capture_output=True,
    )
    (directory / "key.pem").chmod(0o644)  # read by Dovecot's unprivileged login processes
    return cert


def _ensure_mail_user() -> tuple[int, int]:
    """The unprivileged user Dovecot stores mail as (root is refused); created if missing."""
    try:
        entry = pwd.getpwnam(MAIL_USER)
    except KeyError:
        # check=False: a parallel test session may have created it a moment ago.
        done = subprocess.run(
            ["useradd", "-r", "-M", "-s", "/usr/sbin/nologin", MAIL_USER], check=False, capture_output=True
        )
        try:
            entry = pwd.getpwnam(MAIL_USER)
        except KeyError:
            raise RuntimeError(f"cannot create user {MAIL_USER}: {done.stderr.decode().strip()}") from None
    return entry.pw_uid, grp.getgrgid(entry.pw_gid).gr_gid


def choose_kind() -> str:
    """ "dovecot" where it can run (installed, and we are root), else "pymap"."""
    if os.environ.get("MAILPROC_TEST_IMAP", "").lower() == "pymap":
        return "pymap"
    if shutil.which("dovecot") and os.geteuid() == 0:
        return "dovecot"
    return "pymap"


class ImapTestServer:
    """One IMAP account on a throw-away server; use as a context manager."""

    host = "127.0.0.1"
    username = "intake"
    password = "intake-secret"

    def __init__(self, kind: str | None = None, *, tls: bool = False) -> None:
        """`tls`: offer STARTTLS (and, with Dovecot, implicit TLS on `tls_port`) using a
        self-signed certificate, `cert_file`, that clients trust only if told to."""
        self.kind = kind or choose_kind()
        self.tls = tls
        self.port = 0
        self.tls_port = 0  # 0: no implicit-TLS listener (always so for pymap)
        self.cert_file: Path | None = None
        self._tmp: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ImapTestServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start the server on a free loopback port and wait for its greeting."""
        self._tmp = Path(tempfile.mkdtemp(prefix=f"mailproc-{self.kind}-"))
        # Dovecot's own users must traverse it (mkdtemp makes it 0700).
        self._tmp.chmod(0o755)
        self.port = free_port()
        if self.tls:
            self.cert_file = make_certificate(self._tmp, self.host)
        args = self._dovecot_args() if self.kind == "dovecot" else self._pymap_args()
        with open(self._tmp / "server.out", "wb") as log:
            self._proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_greeting(self.host, self.port, b"* OK", self._proc, START_TIMEOUT)
        except RuntimeError as exc:
            self.stop()
            raise RuntimeError(f"{exc}; see {self._tmp}") from None

    def _dovecot_args(self) -> list[str]:
        assert self._tmp is not None
        uid, gid = _ensure_mail_user()
        home = self._tmp / "home"
        home.mkdir()
        os.chown(home, uid, gid)
        conf = self._tmp / "dovecot.conf"
        self.tls_port = free_port() if self.tls else 0
        conf.write_text(
            _DOVECOT_CONF.format(
                tmp=self._tmp,
                uid=uid,
                gid=gid,
                user=MAIL_USER,
                password=self.password,
                port=self.port,
                tls_port=self.tls_port,
                ssl=_tls_settings(self._tmp) if self.tls else "ssl = no",
            )
        )
        # -F keeps it in the foreground so we own its process id for the fallback kill.
        return ["dovecot", "-F", "-c", str(conf)]

    def _pymap_args(self) -> list[str]:
        assert self._tmp is not None
        exe = shutil.which("pymap")
        cmd = [exe] if exe else [sys.executable, "-c", "from pymap.main import main; main()"]
        tls = ["--cert", str(self.cert_file), "--key", str(self._tmp / "key.pem")]
        # Without --demo-data the dict backend starts with an empty INBOX.
        return [
            *cmd,
            *(tls if self.tls else ["--no-tls"]),
            "--pid-file",
            str(self._tmp / "pymap.pid"),
            "--host",
            self.host,
            "--port",
            str(self.port),
            "dict",
            "--demo-user",
            self.username,
            "--demo-password",
            self.password,
        ]

    def stop(self) -> None:
        """Stop the server (politely first) and remove its files."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            if self.kind == "dovecot" and self._tmp is not None:
                subprocess.run(
                    ["doveadm", "-c", str(self._tmp / "dovecot.conf"), "stop"],
                    capture_output=True,
                    check=False,
                    timeout=10,
                )
            else:
                proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def client(self, user: str | None = None) -> IMAPClient:
        """A new logged-in plaintext client (as `user`, default the main account); the caller logs out."""
        client = IMAPClient(self.host, self.port, ssl=False, timeout=10)
        client.login(user or self.username, self.password)
        return client

    def deliver(self, raws: list[bytes], folder: str = "INBOX", user: str | None = None) -> None:
        """Append messages in one MULTIAPPEND (one APPEND per message is ~40 ms on pymap)."""
        if raws:
            with self.client(user) as client:
                client.multiappend(folder, raws)

    def count(self, folder: str) -> int:
        """How many messages `folder` holds (0 if it does not exist)."""
        with self.client() as client:
            if not client.folder_exists(folder):
                return 0
            return int(client.select_folder(folder, readonly=True)[b"EXISTS"])

    def message_ids(self, folder: str) -> list[str]:
        """The Message-IDs of the messages in `folder`, in UID order (none if it does not exist)."""
        with self.client() as client:
            if not client.folder_exists(folder):
                return []
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            fetched = client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]) if uids else {}
            heads = [fetched[uid][b"BODY[HEADER.FIELDS (MESSAGE-ID)]"] for uid in sorted(fetched)]
            return [str(email.message_from_bytes(head)["Message-ID"]).strip() for head in heads]

    # -- Dovecot only (where any user name is an account): its log, and administration -----

    def logins(self, user: str) -> int:
        """How many times `user` has logged in, from the server's log."""
        text = self._dovecot_file("dovecot.log").read_text(encoding="utf-8", errors="replace")
        return text.count(f"imap-login: Info: Login: user=<{user}>,")

    def kick(self, user: str) -> None:
        """Drop every connection of `user`, as a server restart or an administrator would."""
        self._doveadm("kick", user)

    def set_uidvalidity(self, user: str, value: int, folder: str = "INBOX") -> None:
        """Give `folder` of `user` this UIDVALIDITY (creating the folder if need be)."""
        with self.client(user) as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
        self._doveadm("mailbox", "update", "-u", user, "--uid-validity", str(value), folder)

    def _dovecot_file(self, name: str) -> Path:
        if self.kind != "dovecot" or self._tmp is None:
            raise RuntimeError(f"only a running Dovecot test server has {name}")
        return self._tmp / name

    def _doveadm(self, *args: str) -> None:
        conf = self._dovecot_file("dovecot.conf")
        done = subprocess.run(
            ["doveadm", "-c", str(conf), *args], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(args)} failed: {done.stderr.strip()}")

    def reset(self) -> None:
        """Empty INBOX and delete every other folder, so one server serves many tests."""
        with self.client() as client:
            names = [name for _flags, _delim, name in client.list_folders()]
            # Children before parents: some servers refuse to delete a folder with children.
            for name in sorted(names, key=len, reverse=True):
                if name.upper() != "INBOX":
                    client.delete_folder(name)
            client.select_folder("INBOX")
            uids = client.search("ALL")
            if uids:
                client.add_flags(uids, [b"\\Deleted"])
                client.expunge()
            # pymap drops the connection if a selected folder is deleted later: unselect.
            with contextlib.suppress(Exception):
                client.unselect_folder()
