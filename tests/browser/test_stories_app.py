"""The story editor and the story panel in a real browser: injected markup stays text, saving, conflicts, bad files."""

import re

from playwright.sync_api import expect
from story_texts import story

from explorer.stories.fileformat import load

TIMEOUT = 60_000
XSS_IMG = '<img src=x onerror="window.__xss=1">'
XSS_SCRIPT = "<script>window.__xss=2</script>"
XSS_ID = '<img/src="x"onerror=window.__xss=3>'  # an id has no spaces, but may still be markup


def claim_text(path):
    return load(path).components["goal_specification"].claims[0].text


def open_story(page, server, name):
    """Open `name` from a link and wait until the editor shows it (the page opens on the library and loads
    the link's story once the browser has connected), then show its claims' tab."""
    page.goto(f"{server}/stories?story={name}")
    expect(page.locator(".story-state")).to_contain_text(f"{name}, revision", timeout=TIMEOUT)
    show_claims(page)


def show_claims(page):
    page.locator(".bk-tab", has_text="Claims").click()
    page.locator(".claim-text textarea").first.wait_for(timeout=TIMEOUT)


def claim_area(page):
    return page.locator(".claim-text textarea").first


def no_script_ran(page):
    page.wait_for_timeout(500)  # an onerror fires as soon as the broken image is parsed
    assert page.evaluate("() => window.__xss") is None


XSS_STORY = story(f"Title {XSS_IMG}", f"Claim {XSS_SCRIPT}", f"# Body\n\n{XSS_IMG}\n\n{XSS_SCRIPT}\n", evidence_id=XSS_ID)


def test_injected_markup_is_shown_as_text_in_the_editor(page, story_server, story_library):
    (story_library / "xss.story.md").write_text(XSS_STORY)
    open_story(page, story_server, "xss")
    expect(page.locator(".story-preview")).to_contain_text(XSS_SCRIPT, timeout=TIMEOUT)  # the body, as text
    expect(claim_area(page)).to_have_value(f"Claim {XSS_SCRIPT}")
    page.locator(".bk-tab", has_text="Story").first.click()
    expect(page.locator(".story-preview")).to_contain_text(XSS_IMG)
    expect(page.locator(".story-title-input input")).to_have_value(f"Title {XSS_IMG}")
    expect(page.get_by_text(XSS_ID).first).to_be_attached()  # the evidence id among the claim's choices, as text
    no_script_ran(page)


def test_injected_markup_is_shown_as_text_beside_the_simulation(page, story_server, story_library):
    (story_library / "speed-prior.story.md").write_text(XSS_STORY)  # the panel's story for every preset here
    page.goto(f"{story_server}/priors")
    story_tab = page.locator(".bk-tab", has_text="Story")  # beside the picture, in a tab of its own
    story_tab.first.wait_for(timeout=TIMEOUT)
    story_tab.first.click()
    panel = page.locator(".story-panel")
    expect(panel).to_contain_text(f"Title {XSS_IMG}", timeout=TIMEOUT)
    expect(panel).to_contain_text(f"Claim {XSS_SCRIPT}")
    expect(panel).to_contain_text(XSS_ID)
    expect(panel.locator("a", has_text="Open in the story editor")).to_have_attribute("href", "./stories?story=speed-prior")
    no_script_ran(page)


def test_editing_a_claim_and_saving_changes_the_file(page, story_server, story_library):
    path = story_library / "edit-me.story.md"
    path.write_text(story("Edit me", "The first wording."))
    open_story(page, story_server, "edit-me")
    expect(claim_area(page)).to_have_value("The first wording.", timeout=TIMEOUT)
    claim_area(page).fill("A better wording, typed in the browser.")
    expect(page.locator(".story-unsaved")).to_be_visible(timeout=TIMEOUT)  # the server has the edit
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".story-alert")).to_contain_text("Saved edit-me (revision 2)", timeout=TIMEOUT)
    assert claim_text(path) == "A better wording, typed in the browser." and load(path).revision == 2
    assert (story_library / ".history" / "edit-me.r1.story.md").read_text().count("The first wording.") == 1


def test_the_second_of_two_sessions_to_save_sees_the_conflict_and_keeps_its_edits(page, story_server, story_library):
    path = story_library / "shared.story.md"
    path.write_text(story("Shared", "Nobody has edited this yet."))
    other = page.context.new_page()
    open_story(page, story_server, "shared")
    open_story(other, story_server, "shared")
    claim_area(page).fill("The first session's wording.")
    claim_area(other).fill("The second session's wording.")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".story-alert")).to_contain_text("Saved shared (revision 2)", timeout=TIMEOUT)
    other.get_by_role("button", name="Save", exact=True).click()
    conflict = other.locator(".story-conflict")
    expect(conflict).to_contain_text("saved by someone else", timeout=TIMEOUT)
    expect(conflict).to_contain_text("you opened revision 1, the file is now at revision 2")
    expect(claim_area(other)).to_have_value("The second session's wording.")  # nothing lost
    assert claim_text(path) == "The first session's wording."
    other.locator("input[placeholder='my-stories/first-try']").fill("shared-second")
    other.get_by_role("button", name="Save as").click()
    expect(other.locator(".story-alert")).to_contain_text("Saved as shared-second", timeout=TIMEOUT)
    assert claim_text(story_library / "shared-second.story.md") == "The second session's wording."
    other.close()


def test_a_malformed_story_shows_a_located_error_and_the_session_stays_alive(page, story_server, story_library):
    (story_library / "broken.story.md").write_text("---\nschema: 1\ntitle: [unclosed\n---\nbody\n")
    (story_library / "fine.story.md").write_text(story("A fine story", "It loads."))
    page.goto(f"{story_server}/stories?story=broken")
    expect(page.locator(".story-alert")).to_contain_text(re.compile(r"broken\.story\.md:\d+: error TS-F03"), timeout=TIMEOUT)
    expect(page.locator(".story-library-state")).to_contain_text("The story library")  # it stays on the library
    page.locator(".story-library-row").filter(has_text="A fine story").get_by_role("button", name="Open").click()
    expect(page.locator(".story-state")).to_contain_text("fine, revision", timeout=TIMEOUT)
    show_claims(page)
    expect(claim_area(page)).to_have_value("It loads.", timeout=TIMEOUT)
    expect(page.locator(".story-alert-box")).to_be_hidden()
    expect(page).to_have_url(re.compile(r"/stories\?story=fine$"))  # the link follows the open story
