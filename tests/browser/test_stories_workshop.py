"""/stories on a workshop server: a reader sees Save off and why, signs in with the shared password, saves, and
the page says who saved (the name a person types is shown as text)."""

from conftest import WORKSHOP_PASSWORD
from playwright.sync_api import expect
from story_texts import story

from explorer.stories.library import StoryLibrary

TIMEOUT = 60_000
NAME = "Ada <img src=x onerror=\"window.__xss=1\">"


def test_a_reader_signs_in_with_the_shared_password_saves_and_the_history_names_her(page, workshop_server,
                                                                                     workshop_library):
    (workshop_library / "room.story.md").write_text(story("The room story", "The first wording."))
    page.goto(f"{workshop_server}/stories?story=room")
    expect(page.locator(".story-state")).to_contain_text("room, revision 1", timeout=TIMEOUT)
    save = page.get_by_role("button", name="Save", exact=True)
    expect(save).to_be_disabled()
    expect(page.get_by_role("button", name="Save as")).to_be_disabled()
    expect(page.locator(".story-save-reason")).to_contain_text("Sign in to save; reading is open to everyone")

    page.locator(".sign-in-name input").fill(NAME)
    page.locator(".sign-in-password input").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".sign-in-refused")).to_contain_text("wrong password", timeout=TIMEOUT)
    expect(save).to_be_disabled()
    page.locator(".sign-in-password input").fill(WORKSHOP_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".sign-in-who")).to_contain_text(f"Signed in as {NAME}", timeout=TIMEOUT)
    expect(save).to_be_enabled()
    expect(page.locator(".story-save-reason")).to_be_hidden()

    page.locator(".bk-tab", has_text="Claims").click()
    claim = page.locator(".claim-text textarea").first
    expect(claim).to_have_value("The first wording.", timeout=TIMEOUT)
    claim.fill("A wording the room agreed on.")
    expect(page.locator(".story-unsaved")).to_be_visible(timeout=TIMEOUT)
    save.click()
    expect(page.locator(".story-alert")).to_contain_text("Saved room (revision 2)", timeout=TIMEOUT)
    expect(page.locator(".story-saved-by")).to_contain_text(f"saved by {NAME}")
    page.locator(".story-history summary").click()
    history = page.locator(".story-history")
    expect(history).to_contain_text(f"revision 2 (this one): saved by {NAME}")
    expect(history).to_contain_text("revision 1: author not recorded")
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__xss") is None  # the typed name stayed text
    library = StoryLibrary(workshop_library)
    assert library.saved_by("room").author == NAME and library.revision("room") == 2
    assert [r.revision for r in library.history("room")] == [1]
