"""Who may save stories on a shared server: workshop mode, the shared editor password, and authors.

Outside workshop mode anyone saves (a laptop, a notebook); the author of a save is the signed-in Panel
user if there is one, else the operating-system user the server runs as.

In workshop mode (EXPLORER_WORKSHOP=1) reading stays open to everyone, and saving needs signing in:

- through Panel's OAuth (`panel serve --oauth-provider ...`): the OAuth user is signed in and is the author;
- or with the shared editor password, whose hash EXPLORER_EDITOR_PASSWORD_HASH holds
  (`python -m explorer serve --editor-password-file PATH` sets it from a file): a person types a name
  (the author of their saves) and the password.

The password is kept only as a salted PBKDF2-SHA256 hash, `pbkdf2_sha256$ITERATIONS$SALTHEX$HASHHEX`
(RFC 8018: DK = PBKDF2(HMAC-SHA256, password, salt, iterations)), and compared in constant time.
Attempts are rate-limited per session (SignIn): at most ATTEMPTS wrong-or-right tries in WINDOW seconds.

No panel import here: the UI (explorer/ui/sign_in.py) and the library use this module alike.
"""

from __future__ import annotations

import collections
import getpass
import hashlib
import hmac
import os
import secrets
import time
import unicodedata
from collections.abc import Callable, Mapping
from pathlib import Path

from explorer.errors import ExplorerError

ENV_WORKSHOP = "EXPLORER_WORKSHOP"
ENV_PASSWORD_HASH = "EXPLORER_EDITOR_PASSWORD_HASH"
PASSWORD_FILE_FLAG = "--editor-password-file"

ALGORITHM = "pbkdf2_sha256"
#: PBKDF2 iterations: about 0.2 s on one core of the test machine (OWASP 2023 asks 600,000 for SHA-256), once per sign-in.
ITERATIONS = 600_000
SALT_BYTES = 16
#: Sign-in attempts a session may make in WINDOW seconds.
ATTEMPTS = 5
WINDOW = 60.0
MAX_AUTHOR = 80
MAX_PASSWORD = 1024

SIGN_IN_REASON = "Sign in to save; reading is open to everyone."


# ---- hashing -------------------------------------------------------------------------------------------

def hash_password(password: str, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    """`pbkdf2_sha256$ITERATIONS$SALTHEX$HASHHEX` of `password`, with a random salt unless one is given."""
    if not isinstance(password, str) or not password:
        raise ExplorerError("the editor password is empty; choose a password of at least one character")
    if len(password) > MAX_PASSWORD:
        raise ExplorerError(f"the editor password is over {MAX_PASSWORD} characters")
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"{ALGORITHM}${iterations}${salt.hex()}${digest.hex()}"


def verify(password: str, hashed: str) -> bool:
    """Whether `password` matches `hashed` (compared in constant time); a malformed hash matches nothing."""
    if not isinstance(password, str) or not isinstance(hashed, str) or len(password) > MAX_PASSWORD:
        return False
    parts = hashed.strip().split("$")
    if len(parts) != 4 or parts[0] != ALGORITHM:
        return False
    try:
        iterations, salt, expected = int(parts[1]), bytes.fromhex(parts[2]), bytes.fromhex(parts[3])
    except ValueError:
        return False
    if not 1 <= iterations <= 10_000_000 or not salt or not expected:
        return False
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return hmac.compare_digest(digest, expected)


# ---- the policy, from the environment --------------------------------------------------------------------

def workshop_mode(environ: Mapping[str, str] | None = None) -> bool:
    """EXPLORER_WORKSHOP set to 1 (or true/yes/on): saving needs signing in."""
    env = os.environ if environ is None else environ
    return env.get(ENV_WORKSHOP, "").strip().lower() in ("1", "true", "yes", "on")


def password_hash(environ: Mapping[str, str] | None = None) -> str | None:
    """The shared editor password's hash (EXPLORER_EDITOR_PASSWORD_HASH), or None when none is set."""
    env = os.environ if environ is None else environ
    return env.get(ENV_PASSWORD_HASH, "").strip() or None


def check_author(author: object, field: str = "author") -> str:
    """A valid author name (trimmed), or ExplorerError naming `field`: 1 to MAX_AUTHOR characters, no control
    characters. Any other text is allowed (it is escaped wherever it is shown)."""
    if not isinstance(author, str):
        raise ExplorerError(f"the {field} is text, not {type(author).__name__}")
    name = author.strip()
    if not name:
        raise ExplorerError(f"the {field} is empty: type your name")
    if len(name) > MAX_AUTHOR:
        raise ExplorerError(f"the {field} is over {MAX_AUTHOR} characters ({len(name)}); use a shorter name")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        raise ExplorerError(f"the {field} may not contain control characters or line breaks")
    return name


def default_author() -> str:
    """The author outside workshop mode when no one signed in: the operating-system user, else 'anonymous'."""
    try:
        return check_author(getpass.getuser())
    except (ExplorerError, KeyError, OSError):
        return "anonymous"


def save_refusal(author: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """Why a save by `author` (None: nobody signed in) is refused, or None when it may go ahead."""
    if author is None and workshop_mode(environ):
        return SIGN_IN_REASON
    return None


# ---- one session's sign-in -------------------------------------------------------------------------------

class SignIn:
    """One browser session's sign-in state: who is signed in and how, and the rate limit on attempts.

    `oauth_user`: Panel's pn.state.user where the server uses OAuth (that user is signed in for good).
    """

    def __init__(self, oauth_user: str | None = None, environ: Mapping[str, str] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self._environ = environ
        self._clock = clock
        self._attempts: collections.deque[float] = collections.deque()
        self.user: str | None = None
        self.how: str | None = None  # "oauth" or "password"
        if oauth_user:
            try:
                self.user, self.how = check_author(str(oauth_user), "signed-in user's name"), "oauth"
            except ExplorerError:
                self.user, self.how = "oauth user", "oauth"

    @property
    def workshop(self) -> bool:
        return workshop_mode(self._environ)

    @property
    def can_save(self) -> bool:
        return not self.workshop or self.user is not None

    @property
    def author(self) -> str | None:
        """The author of this session's saves: the signed-in user; outside workshop mode the OS user if none;
        None when this session may not save."""
        if self.user is not None:
            return self.user
        return None if self.workshop else default_author()

    @property
    def password_enabled(self) -> bool:
        return password_hash(self._environ) is not None

    def sign_in(self, name: str, password: str) -> str:
        """Sign in with a name and the shared password; returns the name, or raises ExplorerError (one clear
        message: rate limited, no password set on this server, a bad name, or a wrong password)."""
        now = self._clock()
        while self._attempts and now - self._attempts[0] >= WINDOW:
            self._attempts.popleft()
        if len(self._attempts) >= ATTEMPTS:
            wait = max(1, int(WINDOW - (now - self._attempts[0]) + 0.999))
            raise ExplorerError(f"too many sign-in attempts: wait {wait} s and try again")
        self._attempts.append(now)
        hashed = password_hash(self._environ)
        if hashed is None:
            raise ExplorerError("this server has no editor password; ask the workshop's host to sign you in "
                                "(saving is off for everyone here)")
        author = check_author(name, "name")
        if not verify(password or "", hashed):
            raise ExplorerError("wrong password: nothing was signed in")
        self.user, self.how = author, "password"
        return author

    def sign_out(self) -> None:
        if self.how != "oauth":
            self.user, self.how = None, None


# ---- the server option -------------------------------------------------------------------------------------

def read_password_file(path: str | Path) -> str:
    """The password on the first line of `path`; ExplorerError naming --editor-password-file if the file is
    missing, unreadable or its first line empty."""
    try:
        with open(Path(path).expanduser(), encoding="utf-8") as fh:
            first = fh.readline(MAX_PASSWORD + 2)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ExplorerError(f"{PASSWORD_FILE_FLAG} {path}: cannot read the file ({reason})") from None
    password = first.rstrip("\r\n")
    if not password.strip():
        raise ExplorerError(f"{PASSWORD_FILE_FLAG} {path}: the first line is empty; write the editor password on it")
    if len(password) > MAX_PASSWORD:
        raise ExplorerError(f"{PASSWORD_FILE_FLAG} {path}: the password is over {MAX_PASSWORD} characters")
    return password


def use_password_file(path: str | Path | None, environ: dict | None = None) -> None:
    """For `serve --editor-password-file PATH`: put the hash of the file's password in the server's
    environment (EXPLORER_EDITOR_PASSWORD_HASH); nothing happens when `path` is None."""
    if path is None:
        return
    env = os.environ if environ is None else environ
    env[ENV_PASSWORD_HASH] = hash_password(read_password_file(path))
