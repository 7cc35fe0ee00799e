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


def test_the_sign_in_form_fits_a_projector_and_a_laptop(browser, workshop_server):
    """The form a reader meets on a workshop's /stories: nothing on top of another (its labels were wider than
    their fields once, and the name's ran into the password's at 1280x720), nothing cut off."""
    from layout import layout_problems, resize

    page = browser.new_page(viewport={"width": 1280, "height": 720})
    try:
        page.goto(f"{workshop_server}/stories")
        expect(page.locator(".sign-in-name input")).to_be_visible(timeout=TIMEOUT)
        problems = []
        for width, height in ((1280, 720), (1440, 900)):
            resize(page, width, height)
            problems += [f"({width}x{height}) {p}" for p in layout_problems(page)]
            # A label wider than its field runs over the next one (layout.py compares Bokeh's boxes, which a
            # label's text may leave): each label ends within its field, and the two never meet.
            boxes = {f: (page.locator(f".sign-in-{f} label").first.bounding_box(),
                         page.locator(f".sign-in-{f} input").first.bounding_box()) for f in ("name", "password")}
            for field, (label, field_box) in boxes.items():
                if label["x"] + label["width"] > field_box["x"] + field_box["width"] + 1:
                    problems.append(f"({width}x{height}) the {field} label is wider than its field")
            if boxes["name"][0]["x"] + boxes["name"][0]["width"] > boxes["password"][0]["x"]:
                problems.append(f"({width}x{height}) the name label runs into the password label")
        assert problems == [], "\n".join(problems)
    finally:
        page.close()
