"""Signing in to save stories on a workshop server: a name and the shared editor password, or Panel's OAuth user.

The form is shown only in workshop mode (EXPLORER_WORKSHOP=1, explorer.editor_access); outside it everyone
saves and the form stays hidden. The rules (the hash check, the rate limit, what a name may be) are
explorer.editor_access.SignIn's; this Viewer only draws them. The name a person types is hostile text: it
reaches the page only through markup.html_text.
"""

from __future__ import annotations

import panel as pn
import param

from explorer import editor_access
from explorer.errors import ExplorerError
from explorer.ui import markup


def _oauth_user() -> str | None:
    """The user Panel's OAuth signed in for this session (None: no OAuth, or not served)."""
    try:
        return pn.state.user or None
    except (AttributeError, KeyError, RuntimeError):  # no usable session: nobody is signed in by OAuth
        return None


class SignInForm(pn.viewable.Viewer):
    """A session's sign-in: name and password fields, Sign in / Sign out, and who is signed in."""

    user = param.String(default=None, allow_None=True, doc="Who is signed in (none: nobody).")

    def __init__(self, session: editor_access.SignIn | None = None, **params):
        super().__init__(**params)
        self.session = session or editor_access.SignIn(oauth_user=_oauth_user())
        self.name_input = pn.widgets.TextInput(label="Your name", width=240,
                                               max_length=editor_access.MAX_AUTHOR, css_classes=["sign-in-name"])
        self.password = pn.widgets.PasswordInput(label="Editor password", width=200, css_classes=["sign-in-password"])
        self.sign_in_button = pn.widgets.Button(label="Sign in", color="primary", width=90, align="end",
                                                css_classes=["sign-in-button"])
        self.sign_out_button = pn.widgets.Button(label="Sign out", color="light", width=90, align="end",
                                                 css_classes=["sign-in-out"])
        self.message = markup.html("", css_classes=["sign-in-message"], sizing_mode="stretch_width")
        self.state = markup.html("", css_classes=["sign-in-state"], sizing_mode="stretch_width")
        self.sign_in_button.on_click(lambda _e: self.sign_in())
        self.sign_out_button.on_click(lambda _e: self.sign_out())
        self._fields = pn.Row(self.name_input, self.password, self.sign_in_button, css_classes=["sign-in-fields"])
        self.layout = pn.Column(self.state, self._fields, self.sign_out_button, self.message,
                                sizing_mode="stretch_width", css_classes=["sign-in"])
        self.user = self.session.user
        self._show()

    @property
    def author(self) -> str | None:
        """The author of this session's saves; None when it may not save (workshop mode, not signed in)."""
        return self.session.author

    @property
    def can_save(self) -> bool:
        return self.session.can_save

    def sign_in(self, name: str | None = None, password: str | None = None) -> bool:
        """Sign in with the fields' values (or the given ones); a refusal is one message under the form."""
        name = self.name_input.value_input or self.name_input.value if name is None else name
        password = self.password.value_input or self.password.value if password is None else password
        try:
            self.session.sign_in(name or "", password or "")
        except ExplorerError as exc:
            self.message.object = (f"<div class='alert alert-danger sign-in-refused' role='alert' style='margin:0'>"
                                   f"{markup.html_text(str(exc))}</div>")
            return False
        finally:
            self.password.value = self.password.value_input = ""  # never kept in the page
        self.message.object = ""
        self.user = self.session.user
        self._show()
        return True

    def sign_out(self) -> None:
        self.session.sign_out()
        self.user = self.session.user
        self._show()

    def _show(self) -> None:
        workshop = self.session.workshop
        self.layout.visible = workshop
        signed = self.session.user is not None
        self._fields.visible = workshop and not signed
        self.sign_out_button.visible = signed and self.session.how == "password"
        if signed:
            how = " (through the server's sign-in)" if self.session.how == "oauth" else ""
            self.state.object = (f"<div class='sign-in-who'>Signed in as <b>{markup.html_text(self.session.user)}</b>"
                                 f"{how}: your saves carry this name.</div>")
        elif not self.session.password_enabled:
            self.state.object = ("<div class='sign-in-who'>Reading is open to everyone. This server has no editor "
                                 "password, so saving is off.</div>")
        else:
            self.state.object = (f"<div class='sign-in-who'>{markup.html_text(editor_access.SIGN_IN_REASON)} "
                                 f"Sign in with your name (shown as the author of your saves) and the workshop's editor "
                                 f"password.</div>")

    def __panel__(self):
        return self.layout
